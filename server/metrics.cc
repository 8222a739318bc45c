#include "server/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include <prometheus/text_serializer.h>

#include "server/protocol/api_keys.h"

namespace server::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

prometheus::Counter& counter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return BuildCounter().Name(name).Help(help).Register(r).Add({});
}
prometheus::Gauge& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return BuildGauge().Name(name).Help(help).Register(r).Add({});
}
Histogram& histogram(prometheus::Registry& r, const std::string& name, const std::string& help,
                     Histogram::BucketBoundaries b) {
  return BuildHistogram().Name(name).Help(help).Register(r).Add({}, std::move(b));
}

// 10 µs .. ~10 s, x2 per bucket: covers a 40 µs NVMe sync and a stalled spinning disk alike.
Histogram::BucketBoundaries latency_buckets() {
  Histogram::BucketBoundaries b;
  for (double v = 10e-6; v < 12; v *= 2) b.push_back(v);
  return b;
}
Histogram::BucketBoundaries count_buckets() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192}; }
Histogram::BucketBoundaries byte_buckets() {
  Histogram::BucketBoundaries b;
  for (double v = 256; v <= 256.0 * 1024 * 1024; v *= 4) b.push_back(v);
  return b;
}

}  // namespace

kafka_probe::kafka_probe(prometheus::Registry& r)
    : produce_requests(counter(r, "kairo_kafka_produce_requests_total", "Produce requests received")),
      produce_batches(counter(r, "kairo_kafka_produce_batches_total",
                              "RecordBatches acknowledged as durable (acks 1/all) or accepted (acks 0)")),
      produce_records(counter(r, "kairo_kafka_produce_records_total",
                              "Records in the batches counted by kairo_kafka_produce_batches_total")),
      produce_bytes(counter(r, "kairo_kafka_produce_bytes_total",
                            "Bytes of the batches counted by kairo_kafka_produce_batches_total")),
      produce_errors(counter(r, "kairo_kafka_produce_partition_errors_total",
                             "Partition answers of produce requests carrying an error")),
      produce_duplicates(
          counter(r, "kairo_kafka_produce_duplicates_total",
                  "Retried batches of idempotent producers answered with their original offsets, not written again")),
      produce_ack_latency(
          histogram(r, "kairo_kafka_produce_ack_latency_seconds",
                    "Produce request receipt to its answer being queued for the socket (after the covering fdatasync)",
                    latency_buckets())),
      fetch_requests(counter(r, "kairo_kafka_fetch_requests_total", "Fetch requests answered")),
      fetch_bytes(counter(r, "kairo_kafka_fetch_bytes_total", "Record bytes returned by fetch")),
      fetch_long_poll_waits(
          counter(r, "kairo_kafka_fetch_long_poll_waits_total", "Times a fetch parked waiting for new durable data")),
      connections_open(gauge(r, "kairo_kafka_connections_open", "Open Kafka client connections")),
      connections_total(counter(r, "kairo_kafka_connections_total", "Kafka client connections accepted")),
      connections_refused(counter(r, "kairo_kafka_connections_refused_total",
                                  "Connections closed at once: over --max-connections or --max-connections-per-ip")),
      accept_errors(counter(r, "kairo_kafka_accept_errors_total",
                            "accept() failures for want of file descriptors or memory (accepting pauses 100 ms)")),
      connections_timed_out(counter(r, "kairo_kafka_connections_timed_out_total",
                                    "Connections closed for idling past --connections-max-idle-ms or a frame stalled "
                                    "past --request-read-timeout-ms")),
      partial_frame_bytes(
          gauge(r, "kairo_kafka_partial_frame_bytes", "Memory held by request frames still arriving, all connections")),
      partial_frame_peak_bytes(gauge(r, "kairo_kafka_partial_frame_peak_bytes",
                                     "The most kairo_kafka_partial_frame_bytes has been since start")) {
  auto& fam =
      BuildCounter().Name("kairo_kafka_requests_total").Help("Kafka requests received, by API and version").Register(r);
  for (const auto& api : server::protocol::supported_apis)
    for (int16_t v = api.min_version; v <= api.max_version; ++v) {
      const auto key = static_cast<size_t>(api.key);
      if (key < max_api_key && static_cast<size_t>(v) < max_api_version)
        requests[key][static_cast<size_t>(v)] =
            &fam.Add({{"api", std::string(api.name)}, {"version", std::to_string(v)}});
    }
}

pipeline_probe::pipeline_probe(prometheus::Registry& r)
    : flushed_batches(counter(r, "kairo_pipeline_flushed_batches_total", "Batches handed to the WAL by flushes")),
      batches_per_flush(
          histogram(r, "kairo_pipeline_batches_per_flush", "Batches in each flush group", count_buckets())),
      flush_wait(histogram(r, "kairo_pipeline_flush_wait_seconds",
                           "How long the oldest batch of a group waited for its flush", latency_buckets())),
      pending_batches(gauge(r, "kairo_pipeline_pending_batches", "Batches waiting for the next flush (queue depth)")),
      pending_bytes(gauge(r, "kairo_pipeline_pending_bytes", "Bytes waiting for the next flush (queue depth)")),
      min_batches(
          gauge(r, "kairo_pipeline_min_batches", "Current min_batches: flush once this many batches are pending")),
      linger_seconds(gauge(r, "kairo_pipeline_linger_seconds",
                           "Current linger: flush once the oldest pending batch waited this long")),
      buffer_bytes(gauge(r, "kairo_pipeline_buffer_bytes", "Current buffer: flush once this many bytes are pending")),
      memory_used_bytes(gauge(r, "kairo_pipeline_memory_used_bytes", "Produce bytes admitted and not yet answered")),
      memory_peak_bytes(
          gauge(r, "kairo_pipeline_memory_peak_bytes", "Most produce bytes ever admitted at once since start")),
      memory_capacity_bytes(
          gauge(r, "kairo_pipeline_memory_capacity_bytes", "Produce bytes admitted before produce waits (2x buffer)")),
      memory_waiters(gauge(r, "kairo_pipeline_memory_waiters", "Produce requests waiting for memory (backpressure)")),
      profile(BuildGauge().Name("kairo_pipeline_profile").Help("1 for the active produce profile").Register(r)) {
  auto& fam = BuildCounter().Name("kairo_pipeline_flushes_total").Help("Flushes by the rule that cut them").Register(r);
  for (int i = 0; i < engine::flush_reason_count; ++i)
    flushes[static_cast<size_t>(i)] =
        &fam.Add({{"reason", std::string(engine::to_string(static_cast<engine::flush_reason>(i)))}});
}

wal_probe::wal_probe(prometheus::Registry& r)
    : groups(counter(r, "kairo_wal_groups_total", "Groups written and synced (one fdatasync each)")),
      groups_on_io_thread(
          counter(r, "kairo_wal_groups_on_io_thread_total",
                  "Groups committed by the io thread that queued them (the log was idle), not the sync thread")),
      records(counter(r, "kairo_wal_records_total", "Records made durable")),
      bytes(counter(r, "kairo_wal_bytes_total", "Payload bytes made durable")),
      group_records(histogram(r, "kairo_wal_group_records", "Records per group", count_buckets())),
      group_bytes(histogram(r, "kairo_wal_group_bytes", "Payload bytes per group", byte_buckets())),
      write_duration(histogram(r, "kairo_wal_write_duration_seconds", "Time to write a group (before its sync)",
                               latency_buckets())),
      sync_duration(histogram(r, "kairo_wal_sync_duration_seconds",
                              "Time of each real fdatasync, without any simulated delay", latency_buckets())),
      queue_records(gauge(r, "kairo_wal_queue_records", "Records queued in the WAL, not yet taken into a group")),
      queue_bytes(gauge(r, "kairo_wal_queue_bytes", "Bytes queued in the WAL, not yet taken into a group")),
      simulated_sync_delay(gauge(r, "kairo_wal_simulated_sync_delay_seconds",
                                 "EXPERIMENT ONLY: mean delay added after every real fdatasync (0 when off)")),
      failed(gauge(r, "kairo_wal_failed", "1 once a write or sync failed: the log refuses appends (sticky)")) {}

group_probe::group_probe(prometheus::Registry& r)
    : groups(
          BuildGauge().Name("kairo_group_groups").Help("Consumer groups the coordinator knows, by state").Register(r)),
      members(gauge(r, "kairo_group_members", "Members of all consumer groups")),
      rebalances(counter(r, "kairo_group_rebalances_total", "Group generations completed with members")),
      offset_commits(counter(r, "kairo_group_offset_commits_total", "Partition offsets committed durably")),
      expired_offsets(
          counter(r, "kairo_group_expired_offsets_total", "Committed offsets removed by offsets retention")),
      committed_offset(BuildGauge()
                           .Name("kairo_group_committed_offset")
                           .Help("The offset a group committed for a partition (the next one it will read)")
                           .Register(r)),
      lag(BuildGauge()
              .Name("kairo_group_lag")
              .Help("Messages a group has yet to consume: high watermark minus its committed offset")
              .Register(r)) {}

void group_probe::refresh(const engine::coordinator_stats& s, const std::vector<lag_row>& rows) {
  for (auto st : {engine::group_state::empty, engine::group_state::preparing_rebalance,
                  engine::group_state::completing_rebalance, engine::group_state::stable})
    groups.Add({{"state", std::string(engine::to_string(st))}})
        .Set(static_cast<double>(s.by_state.contains(st) ? s.by_state.at(st) : 0));
  members.Set(static_cast<double>(s.members));
  // The coordinator's counters only grow; these follow them.
  auto follow = [](prometheus::Counter& c, uint64_t v) {
    if (static_cast<double>(v) > c.Value()) c.Increment(static_cast<double>(v) - c.Value());
  };
  follow(rebalances, s.rebalances);
  follow(offset_commits, s.offset_commits);
  follow(expired_offsets, s.expired_offsets);

  auto old = std::move(series_);
  series_.clear();
  for (const auto& row : rows) {
    std::map<std::string, std::string> labels{
        {"group", row.group}, {"topic", row.topic}, {"partition", std::to_string(row.partition)}};
    auto it = old.find(labels);
    std::pair<prometheus::Gauge*, prometheus::Gauge*> g;
    if (it != old.end()) {
      g = it->second;
      old.erase(it);
    } else {
      g = {&committed_offset.Add(labels), &lag.Add(labels)};
    }
    g.first->Set(static_cast<double>(row.committed));
    g.second->Set(static_cast<double>(std::max<int64_t>(0, row.high_watermark - row.committed)));
    series_.emplace(std::move(labels), g);
  }
  for (auto& [labels, g] : old) {
    committed_offset.Remove(g.first);
    lag.Remove(g.second);
  }
}

void pipeline_probe::observe(const engine::synced_group& s) {
  const auto& g = s.group;
  flushes[static_cast<size_t>(g.reason)]->Increment();
  flushed_batches.Increment(static_cast<double>(g.records));
  batches_per_flush.Observe(static_cast<double>(g.records));
  flush_wait.Observe(std::chrono::duration<double>(g.oldest_wait).count());
}

void pipeline_probe::refresh(engine::produce_pipeline& p, const engine::log_manager::queue_depth& q) {
  const auto st = p.current();
  pending_batches.Set(static_cast<double>(q.records));
  pending_bytes.Set(static_cast<double>(q.bytes));
  min_batches.Set(st.policy.min_batches);
  linger_seconds.Set(std::chrono::duration<double>(st.policy.linger).count());
  buffer_bytes.Set(static_cast<double>(st.policy.buffer_bytes));
  auto& budget = p.budget();
  memory_used_bytes.Set(static_cast<double>(budget.used()));
  memory_peak_bytes.Set(static_cast<double>(budget.peak()));
  memory_capacity_bytes.Set(static_cast<double>(budget.capacity()));
  memory_waiters.Set(static_cast<double>(budget.waiting()));
  for (auto each : {engine::profile::low_latency, engine::profile::balanced, engine::profile::high_throughput,
                    engine::profile::auto_tuned, engine::profile::custom})
    profile.Add({{"profile", std::string(engine::to_string(each))}}).Set(each == st.active ? 1 : 0);
}

void wal_probe::observe(const engine::synced_group& s) {
  const auto& g = s.group;
  groups.Increment();
  if (g.by_appender) groups_on_io_thread.Increment();
  records.Increment(static_cast<double>(g.records));
  bytes.Increment(static_cast<double>(g.bytes));
  group_records.Observe(static_cast<double>(g.records));
  group_bytes.Observe(static_cast<double>(g.bytes));
  write_duration.Observe(std::chrono::duration<double>(g.write).count());
  sync_duration.Observe(std::chrono::duration<double>(g.sync).count());
}

void wal_probe::refresh(const engine::log_manager& eng, const engine::log_manager::queue_depth& q) {
  queue_records.Set(static_cast<double>(q.records));
  queue_bytes.Set(static_cast<double>(q.bytes));
  simulated_sync_delay.Set(std::chrono::duration<double>(eng.sync_delay().mean).count());
  failed.Set(eng.storage().failure.empty() ? 0 : 1);
}

void registry::refresh(engine::produce_pipeline& p, const engine::log_manager& eng) {
  const auto q = eng.queued();
  pipeline.refresh(p, q);
  wal.refresh(eng, q);
  process.resident_memory_bytes.Set(resident_memory_bytes());
}

txn_probe::txn_probe(prometheus::Registry& r)
    : transactions(BuildGauge()
                       .Name("kairo_txn_transactions")
                       .Help("Transactional ids the transaction coordinator knows, by the state of their transaction")
                       .Register(r)),
      producers(gauge(r, "kairo_txn_producers",
                      "Idempotent and transactional producers with sequence state, summed over partitions")),
      open_partition_transactions(gauge(r, "kairo_txn_open_partition_transactions",
                                        "Transactions open in a partition (no marker yet), summed over partitions")) {}

void txn_probe::refresh(const std::map<engine::txn_state, size_t>& by_state, std::pair<size_t, size_t> totals) {
  for (auto st :
       {engine::txn_state::empty, engine::txn_state::ongoing, engine::txn_state::prepare_commit,
        engine::txn_state::prepare_abort, engine::txn_state::complete_commit, engine::txn_state::complete_abort})
    transactions.Add({{"state", std::string(engine::to_string(st))}})
        .Set(static_cast<double>(by_state.contains(st) ? by_state.at(st) : 0));
  producers.Set(static_cast<double>(totals.first));
  open_partition_transactions.Set(static_cast<double>(totals.second));
}

process_probe::process_probe(prometheus::Registry& r)
    : resident_memory_bytes(gauge(r, "kairo_process_resident_memory_bytes", "Resident set size of the kairo process")),
      start_time_seconds(
          gauge(r, "kairo_process_start_time_seconds", "Start time of the process since the Unix epoch")) {
  start_time_seconds.Set(static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()));
}

registry::registry()
    : prom(std::make_shared<prometheus::Registry>()), kafka(*prom), pipeline(*prom), wal(*prom), groups(*prom),
      txn(*prom), process(*prom) {}

std::string serialize(prometheus::Registry& r) {
  prometheus::TextSerializer s;
  return s.Serialize(r.Collect());
}

double resident_memory_bytes() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  in >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

}  // namespace server::metrics
