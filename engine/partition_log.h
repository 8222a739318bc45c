#pragma once
// One partition's log on top of the shared WAL: offset assignment, the high watermark, the
// offset -> WAL position index, and the long-poll waiters.
//
// Offsets: next_offset_ is "assigned" (set under mu_ as batches enter the WAL queue);
// high_watermark_ is "durable" (moved only by a WAL completion, which runs after the fdatasync
// that covers the batch). Because offsets are assigned and WAL lsns taken under the same lock,
// a partition's completions arrive in offset order, so the index stays sorted and the high
// watermark only moves forward. Reads never see past the high watermark: the index holds only
// completed batches.
//
// Thread-safety: every public member is safe to call from any thread (io threads and the WAL
// sync thread). mu_ is held for index/offset bookkeeping only, never across I/O: fetch copies the
// index entries it needs and reads the WAL after unlocking. Callbacks (produce callbacks, waiters)
// never run with mu_ held.
//
// Ownership: shared (std::shared_ptr). The topic table holds one reference; each queued WAL
// completion holds another, so a partition deleted with appends in flight outlives them.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/producer_state.h"
#include "engine/record_batch.h"
#include "engine/result.h"
#include "engine/wal_streams.h"
#include "wal/write_ahead_log.h"

namespace engine {

struct index_entry {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  // Max of max_timestamp over this entry and every earlier one. Non-decreasing, so the first
  // batch with max_timestamp >= t is found by binary search (the role of Kafka's time index).
  int64_t max_timestamp_so_far = -1;
  wal::position pos;
  uint32_t size = 0;  // payload bytes: the whole batch
};

struct produce_result {
  int64_t base_offset = 0;  // of the first batch of the call
  int64_t log_start_offset = 0;
  bool duplicate = false;  // a producer's retry of a batch already in the log: not written again
};
// Runs exactly once, never with an engine lock held. Success: on the WAL sync thread, after the
// completion of the call's last batch, so a partition's acks run in offset order. Refusals found
// before anything was queued: inline on the caller's thread. A WAL refusal of a later batch of a
// multi-batch call: on whichever thread finishes the call last.
using produce_callback = std::function<void(const result<produce_result>&)>;

struct fetch_result {
  int64_t high_watermark = 0;
  int64_t last_stable_offset = 0;
  int64_t log_start_offset = 0;
  std::vector<std::vector<std::byte>> batches;  // whole RecordBatches, in offset order
  size_t bytes = 0;                             // sum of the batches' sizes
  // read_committed: the aborted transactions that overlap the batches returned.
  std::vector<closed_txn> aborted;
};

struct offset_at_time {
  int64_t offset = -1;
  int64_t timestamp = -1;
};

struct partition_state {
  int64_t log_start_offset = 0;
  int64_t high_watermark = 0;      // durable: what consumers can read
  int64_t last_stable_offset = 0;  // what read_committed consumers can read (<= high watermark)
  int64_t next_offset = 0;         // assigned: includes batches still waiting for their sync
  size_t producers = 0;            // idempotent/transactional producers with state here
  size_t open_transactions = 0;
  uint64_t size_bytes = 0;  // the batches from the log start on, as stored
};

struct partition_options {
  int64_t producer_ttl_ms = 86'400'000;  // producer.id.expiration.ms
  std::function<int64_t()> now_ms;       // broker wall-clock milliseconds
};

// Long-poll wake-up. Runs once, on the WAL sync thread (or the thread deleting the topic or
// closing the engine); must be short and must not block: post to your own executor.
using wake_fn = std::function<void()>;

class partition_log;

// A registered waiter, for cancel. Empty (false) when nothing was registered.
struct wait_handle {
  std::weak_ptr<partition_log> log;
  uint64_t id = 0;
  explicit operator bool() const { return id != 0; }
};

class partition_log : public std::enable_shared_from_this<partition_log> {
 public:
  partition_log(uint32_t stream, partition_options opts)
      : stream_(stream), opts_(std::move(opts)), producers_(opts_.producer_ttl_ms) {}
  partition_log(const partition_log&) = delete;
  partition_log& operator=(const partition_log&) = delete;

  uint32_t stream() const { return stream_; }

  // Adds a durable WAL record found by replay (`batches`, the record's payload split). Records
  // must come in WAL order; one that would overlap offsets already recovered is logged and
  // skipped. Producer state and transactions are rebuilt from the batch headers.
  // REQUIRES: before the first append (open() replays before the engine is shared).
  void recover(const std::vector<batch_info>& batches, std::span<const std::byte> payload, wal::position pos,
               uint32_t size);

  // Assigns offsets to `batches` (parts of `records`, already validated, each with at least one
  // record): rewrites each base offset in place and appends each batch to `wal` as its own
  // record, kept alive by `owner`. `done` runs once, when the last batch's completion ran.
  // If the WAL refuses a batch at append (queue full, closed, failed), the batches after it are
  // not appended and the refused batch's offsets are handed out again; batches before it stay
  // queued and may become durable even though `done` reports the error (at-least-once, as with
  // any failed produce that a client retries).
  // Batches of idempotent or transactional producers (producer id >= 0) are checked against
  // producer_state in log order: a refusal fails the call; a duplicate of one of the last five
  // batches is answered with its original base offset, once that batch is durable, and not
  // written again. REQUIRES: such a call carries exactly one batch.
  void append(wal::write_ahead_log& wal, std::span<std::byte> records, const std::vector<batch_info>& batches,
              std::shared_ptr<const void> owner, produce_callback done);

  // Writes a transaction marker for `producer_id` (commit or abort) and closes its open
  // transaction here. `done` gets the marker's offset after the sync that covers it. Until then
  // the transaction still holds the last stable offset back; a marker the WAL refuses or fails to
  // make durable leaves it open. `done` never runs with mu_ held (a refusal: inline, after it).
  void append_marker(wal::write_ahead_log& wal, int64_t producer_id, int16_t epoch, bool commit,
                     int32_t coordinator_epoch, std::function<void(const result<int64_t>&)> done);

  // Whole batches from the one containing `offset`, up to max_bytes (always at least one batch),
  // never past the high watermark. offset == high watermark gives no batches;
  // offset outside [log start, high watermark] fails with offset_out_of_range.
  // read_committed: nothing at or above the last stable offset, and the aborted transactions
  // overlapping what is returned.
  result<fetch_result> read(const wal::write_ahead_log& wal, int64_t offset, size_t max_bytes,
                            bool read_committed = false) const;

  // Kafka ListOffsets: -2 earliest, -1 latest (the high watermark, or the last stable offset
  // for read_committed), t >= 0 the first batch whose max timestamp >= t (its base offset and
  // that max timestamp), or {-1, -1} when none (read_committed: none at or above the last stable
  // offset, as Kafka). Other negative timestamps give {-1, -1}.
  offset_at_time offset_for_timestamp(int64_t timestamp, bool read_committed = false) const;

  // --- the log start offset (DeleteRecords, retention) ---
  // Replay: a durable log start record. Batches wholly below `offset` leave the index; the next
  // offset is at least `offset` (a log emptied by retention keeps counting from where it was).
  void recover_log_start(int64_t offset);
  // Writes a log start record for `offset` (-1: the high watermark; an offset at or below the
  // current log start restates the current one) and, once it is durable, moves the log start
  // there: batches wholly below it leave the index, fetches below it fail with
  // offset_out_of_range. `done` gets the log start after the move (Kafka's low watermark).
  // offset_out_of_range when `offset` is above the high watermark; unknown_topic_or_partition
  // once retired. `done` never runs with mu_ held.
  void write_log_start(wal::write_ahead_log& wal, int64_t offset, std::function<void(const result<int64_t>&)> done);
  // Where retention would put the log start now: past every leading batch whose max timestamp
  // is older than now_ms - retention_ms (when retention_ms >= 0), and past as many leading
  // batches as it takes to hold at most retention_bytes (when >= 0). Never past the high
  // watermark; never below the current log start.
  int64_t retention_start(int64_t now_ms, int64_t retention_ms, int64_t retention_bytes) const;
  // The first segment of the WAL that holds a batch of this partition at or above its log start;
  // nothing when the index is empty.
  std::optional<uint64_t> first_live_segment() const;
  uint64_t size_bytes() const;  // the batches the index holds

  // --- copying forward (retention: docs/wal-format.md, "Reclaiming space") ---
  // Copies every batch the index holds to the head of the WAL, behind a relocation record
  // (wal_type_relocation), and once the copies are durable points the index at them, so that the
  // segments the originals are in hold nothing of this partition. `done` gets the bytes copied
  // (0: nothing to copy), or busy when the partition changed while its batches were read or has
  // batches not yet durable (try again later); the WAL's errors otherwise. Never with mu_ held.
  // Blocks on reads: call it from the retention thread.
  void relocate(wal::write_ahead_log& wal, std::function<void(const result<uint64_t>&)> done);
  // Replay found a complete relocation: what was recovered so far goes; the log start is
  // `log_start` and the copies, from `first_base` on, are recovered next.
  void reset_for_relocation(int64_t log_start, int64_t first_base);

  partition_state state() const;
  // DescribeProducers.
  std::vector<producer_view> producers() const;
  // Forgets producers idle past producer.id.expiration.ms.
  void expire_producers();

  // Registers `wake` to run once, when the high watermark next moves. When the high watermark
  // is already past `offset` (there is data to fetch) or the partition is retired, nothing is
  // registered and the returned handle is empty: fetch again instead of waiting.
  wait_handle wait(int64_t offset, wake_fn wake);
  // Removes a waiter; true when it was still registered (its wake will not run). O(1).
  bool cancel(uint64_t id);

  // The topic was deleted: later appends fail with unknown_topic_or_partition, waiters run now.
  void retire();
  // Runs every waiter now (engine shutdown).
  void wake_all();

 private:
  struct append_call;
  // A retried batch whose original is not durable yet: answered when it is.
  struct waiting_duplicate {
    int64_t last_offset;
    int64_t base_offset;
    produce_callback done;
  };
  void on_durable(append_call& call, index_entry entry, const wal::result<wal::appended>& r);
  std::unordered_map<uint64_t, wake_fn> take_waiters();  // REQUIRES: mu_ held
  int64_t last_stable_offset() const;                    // REQUIRES: mu_ held
  // Duplicates whose originals are now durable, or, after a failure, all of them.
  std::vector<waiting_duplicate> take_duplicates(bool failed);  // REQUIRES: mu_ held
  void add_to_index(index_entry entry);                         // REQUIRES: mu_ held
  void move_log_start(int64_t offset);                          // REQUIRES: mu_ held
  // Answers waiting duplicates (after a failure, with it). Never with mu_ held.
  static void answer_duplicates(std::vector<waiting_duplicate>& dups, const wal::result<wal::appended>& r,
                                int64_t log_start);
  int64_t now_ms() const { return opts_.now_ms ? opts_.now_ms() : 0; }

  const uint32_t stream_;
  const partition_options opts_;

  mutable std::mutex mu_;
  int64_t log_start_offset_ = 0;                   // guarded by mu_
  int64_t next_offset_ = 0;                        // guarded by mu_; assigned
  int64_t high_watermark_ = 0;                     // guarded by mu_; durable
  std::deque<index_entry> index_;                  // guarded by mu_; one entry per batch, offset order
  uint64_t index_bytes_ = 0;                       // guarded by mu_; sum of index_ sizes
  std::unordered_map<uint64_t, wake_fn> waiters_;  // guarded by mu_
  uint64_t next_waiter_id_ = 1;                    // guarded by mu_
  bool retired_ = false;                           // guarded by mu_
  producer_state producers_;                       // guarded by mu_
  // First offsets of transactions whose marker is written but not durable yet.
  std::multiset<int64_t> closing_txns_;       // guarded by mu_
  std::vector<closed_txn> aborted_;           // guarded by mu_; by marker offset
  std::deque<waiting_duplicate> duplicates_;  // guarded by mu_; by last offset
  // The first failure a completion reported: the WAL's failures are sticky, so nothing not yet
  // durable ever will be, and a retry waiting for its original would wait forever.
  util::error failed_;  // guarded by mu_
};

// Maps a WAL error to the engine's, keeping its words: queue_full -> busy, closed ->
// shutting_down, any other (write/sync failure, I/O) -> storage_error.
util::error from_wal_error(const util::error& e);

// The offset of a wal_type_log_start payload; nothing when it is not one.
std::optional<int64_t> decode_log_start(std::span<const std::byte> payload);

// A wal_type_relocation payload: the log start when the copies were made, and the offset just
// past the last copy. Nothing when it is not one (end <= log start, negative offsets).
struct relocation_range {
  int64_t log_start = 0;
  int64_t end = 0;
};
std::optional<relocation_range> decode_relocation(std::span<const std::byte> payload);

}  // namespace engine
