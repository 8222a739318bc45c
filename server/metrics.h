#pragma once
// Prometheus probes, one struct per component. The hot path only increments counters and
// observes histograms; gauges that mirror state (queue depth, policy) are refreshed at scrape.
// Names follow kairo_<component>_<what>_<unit>; docs/metrics.md describes each.
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "engine/broker.h"
#include "engine/group_coordinator.h"
#include "engine/produce_pipeline.h"
#include "engine/produce_policy.h"
#include "engine/txn_coordinator.h"

namespace server::metrics {

struct kafka_probe {
  explicit kafka_probe(prometheus::Registry& r);
  prometheus::Counter& produce_requests;
  prometheus::Counter& produce_batches;
  prometheus::Counter& produce_records;
  prometheus::Counter& produce_bytes;
  prometheus::Counter& produce_errors;
  prometheus::Counter& produce_duplicates;
  prometheus::Histogram& produce_ack_latency;  // seconds, request receipt to answer queued
  prometheus::Counter& fetch_requests;
  prometheus::Counter& fetch_bytes;
  prometheus::Counter& fetch_long_poll_waits;
  prometheus::Gauge& connections_open;
  prometheus::Counter& connections_total;
  prometheus::Counter& connections_refused;    // over --max-connections or --max-connections-per-ip
  prometheus::Counter& accept_errors;          // accept() failed for want of fds or memory
  prometheus::Counter& connections_timed_out;  // idle or stalled mid-frame
  prometheus::Gauge& partial_frame_bytes;      // memory of request frames still arriving
  prometheus::Gauge& partial_frame_peak_bytes;
  // Requests by API and version (which versions the clients in use really send). Every
  // supported (key, version) has its series from the start; lookups are array indexing.
  prometheus::Counter* request(int16_t key, int16_t version) const {
    if (key < 0 || version < 0 || static_cast<size_t>(key) >= max_api_key ||
        static_cast<size_t>(version) >= max_api_version)
      return nullptr;
    return requests[static_cast<size_t>(key)][static_cast<size_t>(version)];
  }
  static constexpr size_t max_api_key = 64;
  static constexpr size_t max_api_version = 32;
  std::array<std::array<prometheus::Counter*, max_api_version>, max_api_key> requests{};
};

struct pipeline_probe {
  explicit pipeline_probe(prometheus::Registry& r);
  std::array<prometheus::Counter*, engine::flush_reason_count> flushes{};  // by reason
  prometheus::Counter& flushed_batches;
  prometheus::Histogram& batches_per_flush;
  prometheus::Histogram& flush_wait;  // seconds the oldest batch waited for its flush
  prometheus::Gauge& pending_batches;
  prometheus::Gauge& pending_bytes;
  prometheus::Gauge& min_batches;
  prometheus::Gauge& linger_seconds;
  prometheus::Gauge& buffer_bytes;
  prometheus::Gauge& memory_used_bytes;
  prometheus::Gauge& memory_peak_bytes;
  prometheus::Gauge& memory_capacity_bytes;
  prometheus::Gauge& memory_waiters;
  prometheus::Family<prometheus::Gauge>& profile;

  void observe(const engine::synced_group& g);  // on the WAL sync thread: counters and histograms only
  // At a scrape: the policy in force, what waits for the next cut, the memory budget.
  void refresh(engine::produce_pipeline& p, const engine::log_manager::queue_depth& q);
};

struct wal_probe {
  explicit wal_probe(prometheus::Registry& r);
  prometheus::Counter& groups;
  prometheus::Counter& groups_on_io_thread;
  prometheus::Counter& records;
  prometheus::Counter& bytes;
  prometheus::Histogram& group_records;
  prometheus::Histogram& group_bytes;
  prometheus::Histogram& write_duration;
  prometheus::Histogram& sync_duration;
  prometheus::Gauge& queue_records;
  prometheus::Gauge& queue_bytes;
  prometheus::Gauge& simulated_sync_delay;
  prometheus::Gauge& failed;

  void observe(const engine::synced_group& g);  // on the WAL sync thread: counters and histograms only
  void refresh(const engine::log_manager& eng, const engine::log_manager::queue_depth& q);  // at a scrape
};

// One row of consumer lag: a committed offset and the partition's high watermark.
struct lag_row {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t committed = -1;
  int64_t high_watermark = 0;
};

struct group_probe {
  explicit group_probe(prometheus::Registry& r);
  prometheus::Family<prometheus::Gauge>& groups;  // by state
  prometheus::Gauge& members;
  prometheus::Counter& rebalances;
  prometheus::Counter& offset_commits;
  prometheus::Counter& expired_offsets;
  prometheus::Family<prometheus::Gauge>& committed_offset;  // group, topic, partition
  prometheus::Family<prometheus::Gauge>& lag;               // group, topic, partition

  // Mirrors the coordinator at a scrape; series of offsets that are gone are removed.
  void refresh(const engine::coordinator_stats& s, const std::vector<lag_row>& rows);

 private:
  std::map<std::map<std::string, std::string>, std::pair<prometheus::Gauge*, prometheus::Gauge*>> series_;
};

struct txn_probe {
  explicit txn_probe(prometheus::Registry& r);
  prometheus::Family<prometheus::Gauge>& transactions;  // by state
  prometheus::Gauge& producers;                         // producer state entries, all partitions
  prometheus::Gauge& open_partition_transactions;       // (producer, partition) transactions open

  // {producers, open transactions} as log_manager::producer_totals gives them.
  void refresh(const std::map<engine::txn_state, size_t>& by_state, std::pair<size_t, size_t> totals);
};

struct process_probe {
  explicit process_probe(prometheus::Registry& r);
  prometheus::Gauge& resident_memory_bytes;
  prometheus::Gauge& start_time_seconds;
};

// Everything kairo exports, with its registry.
struct registry {
  registry();
  std::shared_ptr<prometheus::Registry> prom;
  kafka_probe kafka;
  pipeline_probe pipeline;
  wal_probe wal;
  group_probe groups;
  txn_probe txn;
  process_probe process;

  // Every synced group, on the WAL sync thread.
  void observe(const engine::synced_group& g) {
    pipeline.observe(g);
    wal.observe(g);
  }
  // The gauges that mirror the engine's state, at a scrape.
  void refresh(engine::produce_pipeline& p, const engine::log_manager& eng);
};

// The registry in Prometheus text exposition format.
std::string serialize(prometheus::Registry& r);
// This process's resident set size in bytes, from /proc/self/statm.
double resident_memory_bytes();

}  // namespace server::metrics
