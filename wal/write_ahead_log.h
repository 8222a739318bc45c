#pragma once
// The group-commit write-ahead log: one log for every partition, so that one fdatasync makes
// every partition's pending appends durable at once.
//
// Threads: append(), read(), set_policy() and the getters are thread-safe. The log owns one I/O
// thread, the sync thread: it cuts a group (flush_policy), writes it with one write() and one
// fdatasync, then runs the waiters' completions in log order. One group is committed at a time,
// by the thread that holds the commit role: the sync thread, or an appender that asked for it
// with a commit_scope (below) and found the sync thread idle. Completions run ON THE COMMITTING
// THREAD: they must be short and must not block (post to your own executor). A completion may
// call append(). (Writing group N+1 while group N syncs was tried and measured slower:
// docs/wal.md, the overlap experiment.)
//
// Failure is sticky: once a write or sync fails, the failing group, every queued record and
// every later append complete with write_failed/sync_failed, whose words say what failed (the
// call, the file, the cause); health() returns that same error. The
// failing group's bytes are cut back off the log (its segment truncated to where the group
// began, segments it opened removed), so that a restart recovers exactly what was completed
// successfully; cut_back_done() says whether that worked. Nothing is completed successfully
// that was not covered by a successful sync that began after its write. The log does not
// resume: it accepts appends again after a restart (recovery), once the cause is fixed.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "wal/file_system.h"
#include "wal/flush_policy.h"
#include "wal/result.h"

namespace wal {

// Where a record lives: the segment (named by its first lsn) and the byte offset of its header.
struct position {
  uint64_t segment = 0;
  uint64_t offset = 0;
  friend bool operator==(const position&, const position&) = default;
};

// Bytes to append, kept alive by `owner` until the record's completion has run. The WAL copies
// them into its write buffer once, on the committing thread.
struct payload {
  std::shared_ptr<const void> owner;
  std::span<const std::byte> bytes;
};

struct appended {
  uint64_t lsn = 0;
  position pos;
  uint32_t size = 0;  // payload bytes
};

using completion = std::function<void(const result<appended>&)>;

struct record_view {
  uint64_t lsn;
  position pos;
  uint8_t type;
  uint32_t stream;
  std::span<const std::byte> payload;
};

struct group_stats {
  flush_reason reason;
  size_t records = 0;
  size_t bytes = 0;          // payload bytes
  size_t queue_records = 0;  // pending when the group was cut (this group included)
  size_t queue_bytes = 0;
  std::chrono::nanoseconds oldest_wait{0};  // from the oldest record's append to the cut
  std::chrono::nanoseconds write{0};        // encoding and write() calls of this group
  std::chrono::nanoseconds sync{0};         // the fdatasync(s) that made this group durable
  std::chrono::nanoseconds idle_before{0};  // how long the log sat idle (no group committed) before this cut
  bool by_appender = false;                 // committed by an appender's commit_scope, not the sync thread
};

struct options {
  std::string dir;
  uint64_t segment_bytes = 256u << 20;  // roll to a new segment past this size
  // Preallocated segments: zero-filled and synced before the log writes into them, so that a
  // group's fdatasync has data to flush and no file size or extent to journal. A run's first
  // segment is first_segment_bytes; each later one is twice the one before, up to segment_bytes,
  // and is prepared by a background thread while the log fills the current one. Off (the
  // default): segments grow with every write. Measured both ways in docs/wal.md: on lowers the
  // sync and the p50, but the zero-fill doubles the bytes written and, on this disk, tripled p99
  // under load, so it is opt-in (--wal-preallocate).
  bool preallocate = false;
  uint64_t first_segment_bytes = 1u << 20;
  uint64_t max_queue_bytes = 256u << 20;  // append reports queue_full past this many pending bytes
  // commit_scope::commit() commits on the calling thread only once the log has sat idle (no
  // group committed) this long. A thread that committed a group, or that was kept from reading
  // by its sync, comes back within microseconds with requests that arrived meanwhile: those go
  // to the sync thread together, instead of one group each (docs/wal.md, "Committing on the io
  // thread").
  std::chrono::nanoseconds appender_commit_after_idle{std::chrono::microseconds(20)};
  group_caps caps;
  flush_policy policy;  // until set_policy()
};

enum class when_full { fail, wait };

struct scan_outcome;  // wal/segment_scan.h

class write_ahead_log {
 public:
  // Recovers the directory (see docs/wal-format.md): verifies every record, truncates a torn or
  // corrupt tail of the newest segment (logged with the bytes dropped), refuses with
  // corrupt_segment when a sealed segment is damaged. Starts the sync thread. An error says what
  // was wrong in words: the file, the byte, the cause.
  static result<std::unique_ptr<write_ahead_log>> open(const options& opts, std::shared_ptr<file_system> fs);
  ~write_ahead_log();  // close()s
  write_ahead_log(const write_ahead_log&) = delete;
  write_ahead_log& operator=(const write_ahead_log&) = delete;

  // Visits every durable record in log order. Call before the first append.
  result<void> replay(const std::function<void(const record_view&)>& visit) const;
  // The same, and calls `progress(bytes read, bytes in all segments)` at most once per `every`
  // (checked every 4096 records) and once at the end, so that recovery of a large log can show
  // how far it has come.
  using replay_progress = std::function<void(uint64_t done, uint64_t total)>;
  result<void> replay(const std::function<void(const record_view&)>& visit, const replay_progress& progress,
                      std::chrono::nanoseconds every) const;

  // Queues a record; O(1), never does I/O. `done` runs once, on the committing thread, after the sync
  // that covers the record (or with the error). A record refused at once (too large, queue full
  // with when_full::fail, log closed or failed) is not queued: append returns the error and
  // `done` never runs. With when_full::wait the caller blocks while the queue is at its bound.
  [[nodiscard]] result<void> append(uint32_t stream, uint8_t type, payload data, completion done,
                                    when_full full = when_full::fail);

  // Reads the payload of the record at `pos` (as returned in appended/record_view) into `out`,
  // which must be exactly the payload size. Thread-safe; reads durable records only.
  result<void> read_payload(position pos, std::span<std::byte> out) const;
  // Reads and verifies a whole record (header and crc). For tests and tools.
  result<std::vector<std::byte>> read_verified(position pos) const;

  // Commits the group itself when it can, on the calling thread: while a commit_scope lives,
  // this thread's appends to this log do not wake the sync thread; commit() then cuts the group
  // here (write, fdatasync, completions) if no group is being committed and the policy cuts now,
  // and otherwise wakes the sync thread as append would have. A lone request so skips two thread
  // hand-offs (appender -> sync thread -> appender's executor). The policy decides exactly as it
  // does on the sync thread (should_cut). Call commit() holding no lock that a completion takes;
  // it blocks for the write and the fdatasync. A scope that is destroyed without commit() only
  // wakes the sync thread. Scopes do not nest: an inner one on the same thread does nothing.
  class commit_scope {
   public:
    explicit commit_scope(write_ahead_log& log);
    ~commit_scope();
    commit_scope(const commit_scope&) = delete;
    commit_scope& operator=(const commit_scope&) = delete;
    // Returns true when this thread committed a group.
    bool commit();

   private:
    void end(bool may_commit);
    write_ahead_log* log_;  // nullptr: nested, or already ended
    bool committed_ = false;
  };

  void set_policy(const flush_policy& p);  // effective at the next cut
  flush_policy policy() const;
  // Called on the committing thread for every synced group, in log order, just before its
  // completions run. Set before the first append.
  void set_observer(std::function<void(const group_stats&)> observer);
  // Called on the committing thread just before and just after every group's completions (a
  // failed group's too), so that work they hand on can be held and leave in one batch. Set
  // before the first append.
  void set_completion_hooks(std::function<void()> before, std::function<void()> after);

  // Stops taking appends (they complete with `closed`), flushes what is queued with reason
  // shutdown, joins the log's threads, closes files. Idempotent.
  void close();

  // Nothing while healthy; otherwise the sticky error, whose words say what failed.
  result<void> health() const;
  // After a failure: true once the failed group's bytes have been cut off the log (a restart
  // then recovers only what was completed successfully).
  bool cut_back_done() const;
  // The segments on disk, oldest first; the last is the one being written.
  struct segment_info {
    uint64_t first_lsn = 0;
    uint64_t bytes = 0;  // the file's size (a preallocated one: all of it)
  };
  std::vector<segment_info> segments() const;
  // Reclaiming space (retention, docs/wal-format.md "Reclaiming space"): removes, oldest first,
  // every sealed segment whose records all have an lsn below `lsn` (the next segment starts at or
  // before it); the segment being written is never removed. Each removal is made durable (the
  // directory synced) before the next, so that a crash can never leave a hole in the chain.
  // Reads already under way finish from the open file; later reads of a removed segment fail
  // with bad_position. Returns the bytes removed; on an I/O error, what was removed until then
  // stays removed and the error says which file failed.
  result<uint64_t> remove_segments_before(uint64_t lsn);
  uint64_t next_lsn() const;
  // Nothing queued and no group being committed (its completions included). For tests and tools.
  bool idle() const;
  size_t queued_records() const;
  uint64_t queued_bytes() const;

 private:
  struct segment {
    uint64_t first_lsn = 0;
    std::string path;
    std::shared_ptr<readable_file> reader;
  };
  struct entry {
    uint64_t lsn;
    uint32_t stream;
    uint8_t type;
    payload data;
    completion done;
    std::chrono::steady_clock::time_point enqueued;
  };

  write_ahead_log(const options& opts, std::shared_ptr<file_system> fs);
  result<void> recover();
  // Recovery's part for the newest segment: cuts it back to its last good record (a torn write,
  // or the unwritten zeros of a preallocated segment) durably, or removes it when it holds none.
  // Returns whether the segment is still there.
  result<bool> trim_newest(const std::string& path, uint64_t size, const scan_outcome& scan);
  result<void> open_new_segment(uint64_t first_lsn);  // REQUIRES: the commit role (or recovery)

  // The spare: the next segment's file, zero-filled ahead of the writer.
  enum class spare_state { none, wanted, ready, failed };
  std::string spare_path() const;
  // Zero-fills a spare of `bytes` (under a temporary name, synced, then renamed into place) on
  // the calling thread. Stops early, with `closed`, once the log is closing.
  result<void> make_spare(uint64_t bytes);
  void run_preallocator();  // the preallocator thread: makes the spares the sync thread asks for
  void want_spare(uint64_t bytes);
  // The spare's size once it is ready (waiting while it is being made); nothing when none was
  // asked for, or when making it failed (then the log goes on with a plain, growing segment).
  std::optional<uint64_t> take_spare();
  // Waits until no group is being committed and the policy cuts one (or shutdown, or a failure
  // drains the queue), takes the commit role and moves the group into `group`. Returns false
  // once closing, nothing is queued and no group is being committed. `failed` is set when the
  // log has failed: the group must then be failed, not written.
  bool take_group(std::deque<entry>& group, group_stats& stats, error& failed);
  // With mu_ held and the commit role taken: moves the records of a group that was cut into
  // `group` (log order, up to the caps) and fills the queue side of `stats`. Unlocks.
  void cut(std::unique_lock<std::mutex>& lock, std::deque<entry>& group, group_stats& stats, bool failed);
  // The commit role's work for one cut group: write, sync, the failure path, the observer, the
  // completions and the hooks. Then gives the role back.
  void commit_group(std::deque<entry>& group, group_stats& stats, error failed);
  // commit_scope::commit(): takes the role and commits here if it is free and the policy cuts.
  bool try_commit_here();
  // Frames `group` into the active segment with write() calls, rolling segments as needed (a
  // roll syncs the old segment first). No final sync.
  result<void> write_group(const std::deque<entry>& group, std::vector<appended>& done, group_stats& stats);
  void run();  // the sync thread
  // After a failed group: removes its bytes from the log (segments it created, the tail of the
  // one it began in at `start`) and syncs that. The committing thread only.
  result<void> cut_back(position start);
  void fail_all(std::deque<entry>& group, const error& e);
  void record_failure(error e);  // the first failure is kept: it explains the rest
  std::shared_ptr<readable_file> reader_for(uint64_t segment) const;

  const options opts_;
  const std::shared_ptr<file_system> fs_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;                   // the cutting thread waits here for records or the linger
  std::condition_variable space_cv_;                  // when_full::wait appenders wait here
  std::deque<entry> queue_;                           // guarded by mu_
  uint64_t queue_bytes_ = 0;                          // guarded by mu_
  uint64_t next_lsn_ = 0;                             // guarded by mu_
  bool closing_ = false;                              // guarded by mu_
  error sticky_;                                      // guarded by mu_; empty while healthy
  flush_policy policy_;                               // guarded by mu_
  std::function<void(const group_stats&)> observer_;  // guarded by mu_; set before start
  std::function<void()> before_completions_;          // guarded by mu_; set before start
  std::function<void()> after_completions_;           // guarded by mu_; set before start
  // The commit role: true while a thread (the sync thread or an appender) commits a group.
  // Everything under "Owned by the committing thread" below belongs to whoever holds it.
  bool committing_ = false;  // guarded by mu_

  bool cut_back_ = false;  // guarded by mu_; the failed group was removed from the log

  std::mutex remove_mu_;  // serialises remove_segments_before
  mutable std::mutex segments_mu_;
  std::map<uint64_t, segment> segments_;  // guarded by segments_mu_; key: first lsn

  // Owned by the committing thread (and by recovery and close(), which run alone).
  std::deque<entry> group_;     // the group being committed (empty between groups)
  std::vector<appended> done_;  // its positions; both reused from group to group
  std::unique_ptr<writable_file> active_;
  uint64_t active_first_lsn_ = 0;
  uint64_t write_pos_ = 0;  // the active segment's end: where the next group is written
  uint64_t capacity_ = 0;   // the active segment rolls once a record would pass this
  std::vector<std::byte> write_buffer_;
  std::chrono::steady_clock::time_point idle_since_;

  std::thread sync_thread_;  // cuts, writes, syncs, completes

  std::mutex spare_mu_;
  std::condition_variable spare_cv_;
  spare_state spare_ = spare_state::none;  // guarded by spare_mu_
  uint64_t spare_bytes_ = 0;               // guarded by spare_mu_; wanted or ready
  error spare_error_;                      // guarded by spare_mu_; why the last one failed
  std::atomic<bool> spare_stop_{false};    // set by close(): a fill in progress stops
  std::thread preallocator_;
};

}  // namespace wal
