#pragma once
// A discrete-event simulation of the produce path, for the tuner's tests and `kairo-lab sim`.
//
// Pure and deterministic: no threads, clocks or I/O; the same scenario and seed give the same
// result, bit for bit. What it models (docs/tuner.md):
//   producers  closed loop: C producers, each sends one request of `batches_per_request` batches,
//              waits for its ack, then after a client round trip R (mean ± jitter) sends again;
//              or open loop: Poisson arrivals at `rate` requests/s spread over `connections`.
//              Mixed load adds a second closed-loop group with its own count, size and round trip.
//   layer 1    one pending queue. Whenever the log is free and something arrives, a linger
//   + WAL      deadline passes or the policy changes, wal::should_cut() (the server's one decision
//              point) decides; a cut takes everything pending up to the WAL's group caps, writes
//              it (write = fixed + per byte) and syncs it (sync = (fixed + per MiB) x jitter);
//              every request whose batches are all synced is acknowledged at the end of the sync.
//              The next group gathers while this one syncs (the WAL's serial loop).
//   policy     a static wal::flush_policy, or auto: the controller is fed what the server feeds
//              it (a group_sample per group, a request_sample per request, an ack_sample per
//              answer) and decide() runs every `decide_every`; its policy applies from the next cut.
// Phases change the load (C or the open-loop rate) or the sync model at given times (step load,
// step disk, stall).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tuner/controller.h"
#include "wal/flush_policy.h"

namespace tuner::sim {

using namespace std::chrono_literals;

// A duration drawn uniformly in [mean x (1 - jitter), mean x (1 + jitter)].
struct spread {
  duration mean{0};
  double jitter = 0;
};

// Sync time of a group of b bytes: (fixed + per_mib x b / MiB) x U[1 - jitter, 1 + jitter].
struct sync_model {
  duration fixed = 1ms;
  duration per_mib{0};
  double jitter = 0.2;
};

// Write time of a group of b bytes (encoding and write() into the page cache): small.
struct write_model {
  duration fixed = 2us;
  duration per_mib = 250us;
};

struct load {
  uint32_t producers = 0;         // closed loop when > 0...
  double rate = 0;                // ...else open loop: Poisson arrivals, requests/s
  uint32_t connections = 16;      // open loop: requests are spread over this many connections
  spread round_trip{100us, 0.2};  // closed loop: from an ack to the producer's next send
  uint32_t batches_per_request = 1;
  uint32_t message_bytes = 256;  // bytes of one batch
  // A second closed-loop group beside the first (mixed load): its own count, batch size and round
  // trip (so its own rate), one batch per request, constant through the phases. 0: none.
  uint32_t second_producers = 0;
  uint32_t second_message_bytes = 16384;
  spread second_round_trip{1ms, 0.2};
};

// From `at` on, change what is given.
struct phase {
  duration at{0};
  std::optional<uint32_t> producers;  // closed loop: new producers start, surplus ones stop after their ack
  std::optional<double> rate;         // open loop
  std::optional<sync_model> sync;
};

// A static policy (a profile or any min_batches/linger), or auto (the controller).
struct policy_choice {
  std::string name = "low-latency";
  bool auto_tuned = false;
  wal::flush_policy fixed;  // static policy; for auto its buffer still applies
  wal::group_caps caps;     // the WAL's bound on one group, whatever the policy
  tuner::config tuner;      // auto only
  duration decide_every = 100ms;
};

// The static profiles of the brief, and auto.
policy_choice low_latency();      // 1 batch / 10 ms / 16 MiB
policy_choice balanced();         // 10 / 100 ms / 32 MiB
policy_choice high_throughput();  // 100 / 500 ms / 128 MiB
policy_choice auto_tuned(tuner::config c = {});
policy_choice fixed_policy(uint32_t min_batches, duration linger);
// "low-latency", "balanced", "high-throughput", "auto" or "MIN/LINGER" (e.g. "64/0.3ms");
// nullopt when it is none of these.
std::optional<policy_choice> parse_policy(const std::string& s);

struct scenario {
  load offered;
  sync_model sync;
  write_model write;
  std::vector<phase> phases;  // in any order
  policy_choice policy;
  duration length = 10s;    // simulated time
  duration warmup = 1s;     // excluded from the summary (not from the timeline or trace)
  duration bucket = 100ms;  // timeline resolution
  uint64_t seed = 1;
};

// One decide() of auto.
struct trace_point {
  duration at{0};
  uint32_t min_batches = 1;
  duration linger{0};
  uint64_t buffer_bytes = 0;
  bool changed = false;
  tuner::rule rule = tuner::rule::none;
  std::string reason;
  tuner::signals seen;
};

// What happened in one bucket of simulated time.
struct bucket_stats {
  duration start{0};
  uint64_t acks = 0, batches_synced = 0, groups = 0;
  double ack_mean_s = 0;
  uint32_t min_batches = 1;  // the policy in force at the end of the bucket
  duration linger{0};
};

struct result {
  std::string policy;
  double measured_s = 0;                           // length - warmup
  uint64_t requests = 0, batches = 0, groups = 0;  // acks, synced batches and groups after warm-up
  double requests_per_s = 0, batches_per_s = 0, mib_per_s = 0, syncs_per_s = 0;
  double batches_per_sync = 0;
  double ack_p50_s = 0, ack_p99_s = 0, ack_mean_s = 0, ack_max_s = 0;  // request latency, arrival to ack
  tuner::policy final_policy;                                          // auto: the setpoint at the end
  tuner::rule final_rule = tuner::rule::none;
  std::string final_reason;
  std::vector<trace_point> trace;  // auto: every decision
  std::vector<bucket_stats> timeline;
};

// Runs the scenario. REQUIRES: offered.producers > 0 or offered.rate > 0 (or a phase starting
// some), batches_per_request >= 1. Throws std::invalid_argument otherwise.
result run(const scenario& s);

}  // namespace tuner::sim
