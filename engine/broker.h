#pragma once
// log_manager: the broker's storage engine. Owns the one write-ahead log that every partition
// shares, the durable topic catalog (engine/topic_catalog.h) and each partition's log state
// (engine/partition_log.h). Asio-free; the server calls it from its io threads.
//
// Threads:
// - produce, fetch, list_offsets, state_of, find_topic, list_topics, wait_for_data, cancel_wait
//   are safe from any thread at once; each takes topics_mu_ (shared) for a lookup and then one
//   partition's mutex for microseconds. fetch reads the WAL after releasing every lock.
// - create_topic, delete_topic and ensure_topic (when it creates) do blocking file I/O (the
//   catalog is rewritten and fsynced): call them off the io threads when latency matters. They
//   are serialised by admin_mu_, and take topics_mu_ exclusively only to swap the table.
// - Produce callbacks and long-poll waiters run on the thread that commits their WAL group: the
//   WAL sync thread, or an io thread that committed it itself (commit_scope), or inline, see
//   below: keep them short, never block in them, post to your executor.
// Lock order: admin_mu_ -> topics_mu_ -> partition mutex -> WAL internal mutex. No callback ever
// runs with an engine lock held.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/partition_log.h"
#include "engine/result.h"
#include "engine/topic_catalog.h"
#include "wal/delaying_file_system.h"
#include "wal/file_system.h"
#include "wal/write_ahead_log.h"

namespace engine {

struct config {
  std::string data_dir;                            // holds the topic catalog; the WAL goes to data_dir/wal by default
  int32_t default_partitions = 3;                  // for auto-created topics
  bool auto_create = true;                         // ensure_topic creates unknown topics: the one place that does
  uint32_t max_message_bytes = 1u << 20;           // per RecordBatch, Kafka's message.max.bytes
  int64_t producer_id_expiration_ms = 86'400'000;  // producer.id.expiration.ms
  std::function<int64_t()> now_ms;                 // broker wall clock (ms); the system clock when empty
  wal::options wal;                                // wal.dir empty -> data_dir + "/wal"
  // EXPERIMENT ONLY: added after every fdatasync (--simulated-sync-delay); changeable live.
  wal::simulated_sync_delay sync_delay;
};

// One synced group, for the metrics and the tuner. `group.sync` is the disk's own time; the delay
// an experiment adds is reported apart, and `sync_seen` is what the log waited in all.
struct synced_group {
  wal::group_stats group;
  std::chrono::nanoseconds simulated_delay{0};
  std::chrono::nanoseconds sync_seen() const { return group.sync + simulated_delay; }
};

// Partition counts above this are refused (invalid_partitions): a guard against typos that
// would allocate millions of partition logs.
inline constexpr int32_t max_partitions_per_topic = 100'000;

struct topic_info {
  std::string name;
  topic_id id{};  // stable across restarts, for Metadata v10+
  int32_t partitions = 0;
  topic_configs configs;  // as given at creation
};

// A durable record of an internal stream (engine/wal_streams.h), handed over during replay.
using internal_record_fn = std::function<void(uint32_t stream, uint8_t type, std::span<const std::byte> payload)>;
// Runs once an internal record is durable (or refused); on the WAL sync thread, or inline when
// the WAL refuses at once. Errors: busy, shutting_down, storage_error.
using internal_done_fn = std::function<void(std::error_code)>;

// A topic's max.message.bytes config, or `broker_default` when it has none (or an unreadable one).
uint32_t topic_max_message_bytes(const topic_configs& configs, uint32_t broker_default);

class log_manager {
 public:
  // Loads the topic catalog from cfg.data_dir, opens and replays the WAL (rebuilding every
  // partition's next offset, high watermark and index; records of deleted or unknown streams
  // are skipped; records of internal streams go to `internal`, in log order) and starts
  // accepting work. Fails with storage_error, its words saying what could not be read and why,
  // when the catalog or the WAL cannot be read. The WAL's files go through `fs` wrapped in the
  // experiment's sync delay; the first form uses the real (POSIX) file system.
  static result<std::unique_ptr<log_manager>> open(config cfg, const internal_record_fn& internal = {});
  static result<std::unique_ptr<log_manager>> open(config cfg, std::shared_ptr<wal::file_system> fs,
                                                   const internal_record_fn& internal = {});
  ~log_manager();  // close()s
  log_manager(const log_manager&) = delete;
  log_manager& operator=(const log_manager&) = delete;

  // Flushes and closes the WAL (queued produces complete), then wakes every long-poll waiter.
  // Later produces fail with shutting_down. Idempotent.
  void close();

  // --- topics ---
  // invalid_topic (name rule: 1-249 chars of [a-zA-Z0-9._-], not "." or ".."),
  // invalid_partitions (< 1 or > max_partitions_per_topic), topic_already_exists, storage_error.
  result<topic_info> create_topic(std::string_view name, int32_t partitions, topic_configs configs = {});
  // unknown_topic_or_partition, storage_error. Its stream ids are never reused; its WAL records
  // are skipped from now on. A topic created later under the same name starts empty.
  result<void> delete_topic(std::string_view name);
  // The topic, created with default_partitions when it does not exist and auto_create is on;
  // unknown_topic_or_partition when it is off.
  result<topic_info> ensure_topic(std::string_view name);
  // Grows a topic to `count` partitions (CreatePartitions; topics only grow): invalid_partitions
  // when count is not above the current count or above max_partitions_per_topic,
  // unknown_topic_or_partition, storage_error. The new partitions start empty.
  result<topic_info> create_partitions(std::string_view name, int32_t count);
  // Replaces a topic's configs (AlterConfigs; the caller checked them), durably.
  result<topic_info> set_topic_configs(std::string_view name, topic_configs configs);
  // Broker configs changed while running, kept in the catalog across restarts (opaque to the
  // engine: the server checks and applies them): this broker's and the cluster default's.
  struct dynamic_broker_configs {
    topic_configs broker;
    topic_configs cluster_default;
  };
  dynamic_broker_configs broker_configs() const;
  // Replaces both sets durably (storage_error, shutting_down); nothing changes on failure.
  result<void> set_broker_configs(const dynamic_broker_configs& configs);
  std::optional<topic_info> find_topic(std::string_view name) const;
  // By topic id (Fetch v13+ name topics by id).
  std::optional<topic_info> find_topic(const topic_id& id) const;
  std::vector<topic_info> list_topics() const;  // sorted by name
  // unknown_topic_or_partition when the topic or partition does not exist.
  result<partition_state> state_of(std::string_view topic, int32_t partition) const;

  // --- data path ---
  // Validates every batch in `records` (one or more concatenated RecordBatch v2, see
  // validate_batches) before anything is queued, then assigns consecutive offsets (rewriting
  // each base offset in place, so `records` must stay writable and alive: `owner` keeps it
  // alive until the WAL has copied it) and appends each batch to the WAL.
  // `done` gets {base offset of the first batch, log start offset} after the sync covering the
  // last batch, on the WAL sync thread. It runs inline with: unknown_topic_or_partition,
  // corrupt_message / unsupported_format (validation), message_too_large (a batch above
  // max_message_bytes), and busy / shutting_down / storage_error when the WAL refuses at once.
  // An unknown topic is unknown_topic_or_partition: callers that auto-create call ensure_topic
  // first (a blocking catalog write, so off the io threads), and produce itself never blocks.
  void produce(std::string_view topic, int32_t partition, std::shared_ptr<void> owner, std::span<std::byte> records,
               produce_callback done);

  // Whole batches starting with the one containing `offset`, up to max_bytes but always at least
  // one, never above the high watermark (read_committed: the last stable offset).
  // offset == high watermark: no batches.
  // unknown_topic_or_partition, offset_out_of_range, storage_error.
  result<fetch_result> fetch(std::string_view topic, int32_t partition, int64_t offset, size_t max_bytes,
                             bool read_committed = false) const;

  // Kafka ListOffsets semantics, see partition_log::offset_for_timestamp.
  result<offset_at_time> list_offsets(std::string_view topic, int32_t partition, int64_t timestamp,
                                      bool read_committed = false) const;

  // --- the log start offset and retention (docs/wal-format.md, "Reclaiming space") ---
  // DeleteRecords: moves the partition's log start to `offset` (-1: the high watermark) once a
  // record saying so is durable; `done` gets the new log start (the low watermark), on the WAL
  // sync thread or inline on a refusal (unknown_topic_or_partition, offset_out_of_range above the
  // high watermark, busy / shutting_down / storage_error).
  void delete_records(std::string_view topic, int32_t partition, int64_t offset,
                      std::function<void(const result<int64_t>&)> done);
  // A topic's retention: -1 keeps forever (retention.ms / retention.bytes, per partition).
  struct retention_policy {
    int64_t retention_ms = -1;
    int64_t retention_bytes = -1;
  };
  struct retention_report {
    size_t partitions_moved = 0;  // partitions whose log start moved
    size_t segments_removed = 0;
    uint64_t bytes_removed = 0;
    size_t partitions_relocated = 0;  // copied forward out of old segments
    uint64_t bytes_relocated = 0;
    uint64_t wal_bytes = 0;  // what the WAL holds afterwards
  };
  // Hands the internal streams' state to the WAL again (the server's coordinators: every record
  // of the group and transaction streams written before this call began is then superseded) and
  // returns once that restatement is durable. Empty: no internal state is kept.
  using restate_fn = std::function<result<void>()>;
  // One retention pass; blocks (run it on a thread of its own, never an io thread). Moves every
  // partition's log start as `policy` asks (durably, as DeleteRecords does), then removes the WAL
  // segments that hold nothing live: every batch in them is below its partition's log start or
  // belongs to a deleted topic. Before removing any, it restates the partitions' log starts and
  // (through `restate`) the internal streams, so that nothing a removed segment held is needed.
  // Produce and fetch go on meanwhile; each partition is locked for microseconds.
  result<retention_report> enforce_retention(int64_t now_ms,
                                             const std::function<retention_policy(const topic_info&)>& policy,
                                             const restate_fn& restate);

  // --- transactions ---
  // Writes a commit or abort marker for `producer_id` into the partition; `done` gets its offset
  // once durable (on the WAL sync thread, or inline on a refusal).
  void write_marker(std::string_view topic, int32_t partition, int64_t producer_id, int16_t epoch, bool commit,
                    int32_t coordinator_epoch, std::function<void(const result<int64_t>&)> done);
  // DescribeProducers: the producers with state in the partition.
  result<std::vector<producer_view>> producers(std::string_view topic, int32_t partition) const;
  // Forgets producers idle past producer.id.expiration.ms, in every partition.
  void expire_producers();
  // Producers with state and transactions open, summed over partitions (for metrics).
  std::pair<size_t, size_t> producer_totals() const;

  // Long poll: `wake` runs once when the partition's high watermark next moves (or the topic is
  // deleted, or the engine closes). An empty handle means nothing was registered because the
  // high watermark is already past `offset`: fetch again. Waiters are one-shot and removed when
  // they run or are cancelled, so none pile up on idle partitions; the caller's long-poll
  // timeout (cancel_wait) stays the backstop. shutting_down once close() began.
  result<wait_handle> wait_for_data(std::string_view topic, int32_t partition, int64_t offset, wake_fn wake);
  // O(1); true when the waiter was still registered, so its wake will not run.
  static bool cancel_wait(const wait_handle& h);

  // Appends a record to an internal stream (group state): the same WAL, the same group commit,
  // the same fdatasync as produced data. REQUIRES: is_internal_stream(stream).
  void append_internal(uint32_t stream, uint8_t type, std::vector<std::byte> payload, internal_done_fn done);

  // Bytes the log holds for a batch of `batch_bytes` (its framing included): what the tuner
  // counts as the size of what it waits for.
  static uint64_t log_bytes(size_t batch_bytes);

  // The log's health: empty `failure` while it is healthy. After a failed write or sync every
  // produce fails with storage_error until a restart; `failed_group_cut` says whether the failed
  // group was removed from the log (so that a restart cannot bring it back).
  struct storage_health {
    std::string failure;
    bool failed_group_cut = false;
  };
  storage_health storage() const;

  // --- the batching decision point and what it reports ---
  // The policy the WAL cuts groups by (wal::should_cut); effective at the next cut.
  void set_policy(const wal::flush_policy& p) { wal_->set_policy(p); }
  wal::flush_policy policy() const { return wal_->policy(); }
  // Called on the committing thread for every synced group, before its acks go out. Set once,
  // before the first produce.
  void set_group_observer(std::function<void(const synced_group&)> observer);
  // Run on the committing thread just before and just after each group's completions (the
  // produce callbacks). Set once, before the first produce.
  void set_group_hooks(std::function<void()> before, std::function<void()> after) {
    wal_->set_completion_hooks(std::move(before), std::move(after));
  }
  // While the scope lives, this thread's produces do not wake the WAL's sync thread; its
  // commit() commits their group on this thread when the WAL is idle and the policy cuts now
  // (wal::write_ahead_log::commit_scope). Call commit() holding no engine lock.
  wal::write_ahead_log::commit_scope commit_here() { return wal::write_ahead_log::commit_scope(*wal_); }
  // Records and bytes waiting for the next cut.
  struct queue_depth {
    size_t records = 0;
    uint64_t bytes = 0;
  };
  queue_depth queued() const { return {wal_->queued_records(), wal_->queued_bytes()}; }
  // EXPERIMENT ONLY: the delay added after every fdatasync, from the next sync on.
  void set_sync_delay(const wal::simulated_sync_delay& d) { delay_fs_->set_delay(d); }
  wal::simulated_sync_delay sync_delay() const { return delay_fs_->delay(); }

  // For engine tests that steer the WAL directly; the server goes through the calls above.
  wal::write_ahead_log& wal() const { return *wal_; }
  const config& settings() const { return cfg_; }

 private:
  struct topic_entry {
    topic_info info;
    uint32_t max_message_bytes = 0;                          // the topic's max.message.bytes, else the broker's
    std::vector<std::shared_ptr<partition_log>> partitions;  // index = partition id
  };
  struct name_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using topic_table = std::unordered_map<std::string, std::shared_ptr<const topic_entry>, name_hash, std::equal_to<>>;

  log_manager(config cfg, std::shared_ptr<wal::file_system> fs);
  result<void> replay(const internal_record_fn& internal);  // REQUIRES: inside open(), before the engine is shared
  std::shared_ptr<const topic_entry> find_entry(std::string_view name) const;
  result<std::shared_ptr<partition_log>> find_partition(std::string_view topic, int32_t partition) const;
  std::vector<std::shared_ptr<partition_log>> all_partitions() const;
  std::shared_ptr<topic_entry> make_entry(const topic_record& rec) const;
  // Saves `next` as the catalog and publishes `rec`'s new entry. REQUIRES: admin_mu_ held.
  result<void> replace_topic(topic_catalog next, std::shared_ptr<topic_entry> entry);
  // Writes a log start record to every partition in `parts` (-1 each: restate; else the offset)
  // and waits for all of them.
  // Retention's copy forward: the partitions pinning old segments, when that pays (broker.cc).
  result<void> relocate_pinning(const std::vector<std::shared_ptr<const topic_entry>>& entries, retention_report& out);
  result<void> write_log_starts(const std::vector<std::pair<std::shared_ptr<partition_log>, int64_t>>& parts);
  std::mutex retention_mu_;  // one retention pass at a time
  partition_options partition_opts() const { return {cfg_.producer_id_expiration_ms, cfg_.now_ms}; }

  const config cfg_;
  const std::shared_ptr<wal::file_system> fs_;  // the catalog's files, and below delay_fs_ the WAL's
  const std::shared_ptr<wal::delaying_file_system> delay_fs_;
  std::unique_ptr<wal::write_ahead_log> wal_;  // set in open(), then never changes

  mutable std::mutex admin_mu_;      // serialises catalog changes (create/delete) and close
  topic_catalog catalog_;            // guarded by admin_mu_; what is durable on disk
  std::atomic<bool> closed_{false};  // written under admin_mu_, read anywhere

  mutable std::shared_mutex topics_mu_;
  topic_table topics_;                           // guarded by topics_mu_; entries are immutable once published
  std::map<topic_id, std::string> names_by_id_;  // guarded by topics_mu_
};

}  // namespace engine
