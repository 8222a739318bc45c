#pragma once
// librdkafka plumbing shared by the bench's producers and consumers: client creation, topic
// set-up and the send-timestamp stamped into each payload. Internal to `kairo-lab bench`.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "experiments/lab/bench.h"

namespace lab::bench_detail {

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Every set-up step (reach the broker, create the topic, see its leaders) is bounded by this.
constexpr int setup_timeout_ms = 10'000;

// Payload layout: [magic u64][send time, steady-clock ns, i64][filler]. Round-trip needs the
// 16-byte header; shorter produce-only payloads carry no stamp. The steady clock is
// CLOCK_MONOTONIC, shared by all processes on a machine, so e2e latency is meaningful only when
// producer and consumer run on the same host (they do: same process).
constexpr uint64_t payload_magic = 0x4b4149524f42454eULL;
constexpr size_t payload_header_bytes = 16;

inline void stamp_payload(char* p, size_t n, int64_t send_ns) {
  if (n < payload_header_bytes) return;
  std::memcpy(p, &payload_magic, 8);
  std::memcpy(p + 8, &send_ns, 8);
}

inline std::optional<int64_t> read_stamp(const void* p, size_t n) {
  if (p == nullptr || n < payload_header_bytes) return std::nullopt;
  uint64_t magic = 0;
  std::memcpy(&magic, p, 8);
  if (magic != payload_magic) return std::nullopt;
  int64_t ts = 0;
  std::memcpy(&ts, static_cast<const char*>(p) + 8, 8);
  return ts;
}

// Alphanumeric filler from a seeded generator: compressible roughly like text, never all zeros.
std::vector<char> make_payload(size_t size, uint64_t seed);

struct rk_deleter {
  void operator()(rd_kafka_t* rk) const;
};
using rk_ptr = std::unique_ptr<rd_kafka_t, rk_deleter>;

struct conf_deleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;

// Sets key=value; returns an error text naming the key, empty on success.
std::string conf_set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);

// Producer configuration of the bench (acks, linger, compression, no idempotence, Nagle off).
// Returns nullptr and sets *error when a value is refused.
conf_ptr producer_conf(const bench_config& cfg, std::string* error);
conf_ptr consumer_conf(const bench_config& cfg, std::string* error);

// Creates a client; takes ownership of conf. nullptr and *error on failure.
rk_ptr make_client(rd_kafka_type_t type, conf_ptr conf, std::string* error);

// Reaches the broker, creates cfg.topic with cfg.partitions (replication 1) when missing (not in
// consume mode), and waits until every partition has a leader. Returns the topic's partition
// count, or an error text saying what failed and what to do. Bounded by ~2 x setup_timeout_ms.
std::pair<int, std::string> ensure_topic(const bench_config& cfg);

// Low and high watermark of every partition 0..partitions-1.
std::pair<std::vector<std::pair<int64_t, int64_t>>, std::string> query_watermarks(rd_kafka_t* rk,
                                                                                  const std::string& topic,
                                                                                  int partitions);

}  // namespace lab::bench_detail
