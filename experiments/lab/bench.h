#pragma once
// `kairo-lab bench`: load generator on librdkafka with the report's semantics (BRIEF.md, "Bench
// semantics"). Usable in-process by the experiment runner.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lab {

enum class bench_mode { produce, consume, round_trip };

struct bench_config {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "kairo-bench";
  bench_mode mode = bench_mode::produce;
  int concurrency = 1;     // senders per producer, each with exactly one message in flight
  int producers = 1;       // independent producer instances (own connections)
  double duration_s = 30;  // measured time
  double warmup_s = 0;     // load before measuring; not counted
  size_t message_size = 256;
  std::string acks = "all";  // 0 | 1 | all
  std::string compression = "none";
  int partitions = 3;  // the topic is created with this many when missing
  int linger_ms = 0;
  std::optional<double> rate;  // open loop: messages per second in total (senders then ignore concurrency)
  double progress_interval_s = 5;
  // Phased closed-loop load: from at_s (measured from the start of the measured window) on,
  // `concurrency` senders per producer are active (the rest idle). Empty: `concurrency` throughout.
  struct load_step {
    double at_s = 0;
    int concurrency = 1;
  };
  std::vector<load_step> schedule;
  // Added: librdkafka properties applied last to every client (producers and consumer), like
  // kcat's -X; for experiments with client settings (e.g. batch.num.messages) and debugging.
  std::vector<std::pair<std::string, std::string>> client_properties;
};

struct latency_summary {  // microseconds
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};

struct bench_result {
  bench_config config;
  uint64_t messages = 0;  // acknowledged (produce) or received (consume) in the measured window
  uint64_t failed = 0;    // delivery errors, timeouts
  uint64_t bytes = 0;
  double seconds = 0;
  double msgs_per_sec = 0;
  double mb_per_sec = 0;  // 1 MB = 1e6 bytes
  latency_summary latency;
  std::string error;  // set when the run could not start (no broker, topic creation failed)
  // Added for open loop and round-trip (see bench_clients.h for the sender model):
  uint64_t unsent = 0;          // open loop: scheduled but not sent (in-flight cap or full queue); included in failed
  uint64_t received = 0;        // round-trip: messages the consumer read in the measured window
  latency_summary e2e_latency;  // round-trip: produce-to-consume latency; `latency` stays the ack latency
  int topic_partitions = 0;     // partitions the topic really has (it may have existed already)
};

struct bench_progress {
  double elapsed_s = 0;
  bool warming_up = false;
  uint64_t messages = 0;
  uint64_t failed = 0;
  double msgs_per_sec = 0;  // over the last interval
  double mb_per_sec = 0;
  double p99_us = 0;           // so far
  double interval_p99_us = 0;  // over the last interval only (for time series)
  double interval_p50_us = 0;
  int active_senders = 0;  // per producer, under a schedule
};

// Runs one benchmark; calls on_progress every progress_interval_s; returns early (with what was
// measured) when *stop becomes true. Never throws for broker-side problems: they are counted in
// `failed` or reported in `error`.
bench_result run_bench(const bench_config& cfg, const std::function<void(const bench_progress&)>& on_progress,
                       const std::atomic<bool>* stop = nullptr);

std::string to_json(const bench_result& r);  // one JSON object, fields as in the summary plus the config
std::string csv_header();
std::string to_csv_row(const bench_result& r);
std::string to_text(const bench_result& r);  // the human summary

// The `kairo-lab bench` command line; returns the exit code.
int bench_main(int argc, const char* const* argv);

}  // namespace lab
