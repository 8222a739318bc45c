#include "wal/write_ahead_log.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "wal/errc.h"
#include "wal/format.h"
#include "wal/logger.h"
#include "wal/segment_scan.h"

namespace wal {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("wal")) return existing;
    auto l = spdlog::default_logger()->clone("wal");
    spdlog::register_logger(l);
    return l;
  }();
  return *logger;
}

namespace {

using clock = std::chrono::steady_clock;

// The commit_scope open on this thread, if any, and whether an append under it wanted to wake
// the sync thread (which its end then does, or commits the group itself).
thread_local write_ahead_log* deferring = nullptr;
thread_local bool wake_deferred = false;

size_t framed_size(const payload& p) { return format::record_header_size + p.bytes.size(); }

}  // namespace

write_ahead_log::write_ahead_log(const options& opts, std::shared_ptr<file_system> fs)
    : opts_(opts), fs_(std::move(fs)), policy_(opts.policy) {}

write_ahead_log::~write_ahead_log() { close(); }

result<std::unique_ptr<write_ahead_log>> write_ahead_log::open(const options& opts, std::shared_ptr<file_system> fs) {
  if (auto r = fs->create_dirs(opts.dir); !r)
    return fail(errc::io_error, "cannot create log directory: " + r.error().message());
  std::unique_ptr<write_ahead_log> w(new write_ahead_log(opts, std::move(fs)));
  if (auto r = w->recover(); !r) return fail(r.error());  // the caller reports it: the words are in it
  w->idle_since_ = clock::now();
  w->sync_thread_ = std::thread([p = w.get()] { p->run(); });
  if (opts.preallocate) w->preallocator_ = std::thread([p = w.get()] { p->run_preallocator(); });
  return w;
}

namespace {
constexpr std::string_view spare_name = "spare.wal-preallocated";
constexpr std::string_view spare_tmp_suffix = ".tmp";
constexpr uint64_t prealloc_sync_every = 4u << 20;
}  // namespace

std::string write_ahead_log::spare_path() const { return opts_.dir + "/" + std::string(spare_name); }

result<void> write_ahead_log::recover() {
  auto names = fs_->list(opts_.dir);
  if (!names) return fail(errc::io_error, names.error().message());
  std::vector<uint64_t> firsts;
  for (auto& n : *names) {
    if (auto first = format::parse_segment_name(n)) firsts.push_back(*first);
    if (n == std::string(spare_name) + std::string(spare_tmp_suffix)) {  // a fill that a crash cut short
      if (auto r = fs_->remove(opts_.dir + "/" + n); !r) return fail(errc::io_error, r.error().message());
    } else if (n == spare_name) {  // zero-filled and synced before it took this name: usable as it is
      if (!opts_.preallocate) {
        if (auto r = fs_->remove(spare_path()); !r) return fail(errc::io_error, r.error().message());
        continue;
      }
      auto f = fs_->open_readable(spare_path());
      if (!f) return fail(errc::io_error, f.error().message());
      auto size = (*f)->size();
      if (!size) return fail(errc::io_error, size.error().message());
      std::lock_guard lock(spare_mu_);
      spare_ = spare_state::ready;
      spare_bytes_ = *size;
    }
  }
  std::sort(firsts.begin(), firsts.end());

  uint64_t expected_lsn = firsts.empty() ? 0 : firsts.front();
  for (size_t i = 0; i < firsts.size(); ++i) {
    const bool last = i + 1 == firsts.size();
    const std::string path = opts_.dir + "/" + format::segment_name(firsts[i]);
    auto reader = fs_->open_readable(path);
    if (!reader) return fail(errc::io_error, reader.error().message());
    auto size = (*reader)->size();
    if (!size) return fail(errc::io_error, size.error().message());
    if (firsts[i] != expected_lsn)
      return fail(errc::corrupt_segment, "segment " + path + " starts at lsn " + std::to_string(firsts[i]) +
                                             " but the previous segment ends before lsn " +
                                             std::to_string(expected_lsn) + ": records are missing");
    auto scan = scan_segment(**reader, *size, firsts[i], nullptr);
    if (!scan) return fail(errc::io_error, scan.error().message());
    // A sealed segment may end in zeros (it was preallocated and rolled before it was full):
    // the next segment's first lsn, checked above, says no record is missing there.
    const bool clean_end = scan->problem.empty() || (scan->zero_tail && scan->header_ok);
    if (!last && !clean_end)
      return fail(errc::corrupt_segment, "sealed segment " + path + " is corrupt at byte " +
                                             std::to_string(scan->valid_bytes) + ": " + scan->problem);
    if (last) {
      auto kept = trim_newest(path, *size, *scan);
      if (!kept) return fail(kept.error());
      if (!*kept) continue;
      reader = fs_->open_readable(path);
      if (!reader) return fail(errc::io_error, reader.error().message());
    }
    expected_lsn = scan->next_lsn;
    segments_[firsts[i]] = segment{firsts[i], path, std::shared_ptr<readable_file>(std::move(*reader))};
    if (last && !opts_.preallocate) {  // appending: the newest segment goes on growing
      auto w = fs_->open_writable(path);
      if (!w) return fail(errc::io_error, w.error().message());
      active_ = std::move(*w);
      active_first_lsn_ = firsts[i];
      write_pos_ = active_->size();
      capacity_ = opts_.segment_bytes;
    }
  }
  next_lsn_ = expected_lsn;
  // Preallocating, every run writes a segment of its own: bytes a crash left past the last good
  // record of the newest one were cut off with it, and no later write can land next to them.
  if (!active_) return open_new_segment(next_lsn_);
  return {};
}

result<bool> write_ahead_log::trim_newest(const std::string& path, uint64_t size, const scan_outcome& scan) {
  if (!scan.header_ok) {
    if (size >= format::segment_header_size && !scan.zero_tail)
      return fail(errc::corrupt_segment, "newest segment " + path + " has a damaged header: " + scan.problem);
    // Created but its header never reached the disk: it holds no records.
    log().warn("removing segment {} whose header was never completed ({} bytes)", path, size);
    if (auto r = fs_->remove(path); !r) return fail(errc::io_error, r.error().message());
    return false;
  }
  if (opts_.preallocate && scan.records == 0) {  // a segment of its own replaces it, same name
    if (auto r = fs_->remove(path); !r) return fail(errc::io_error, r.error().message());
    return false;
  }
  if (size == scan.valid_bytes) return true;
  if (scan.zero_tail)
    log().debug("segment {}: {} preallocated bytes after byte {} were never written; cut off", path,
                size - scan.valid_bytes, scan.valid_bytes);
  else
    log().warn("truncating torn or corrupt tail of {}: {} bytes dropped after byte {} ({})", path,
               size - scan.valid_bytes, scan.valid_bytes, scan.problem);
  if (auto r = fs_->truncate(path, scan.valid_bytes); !r) return fail(errc::io_error, r.error().message());
  // Durably: once a later segment exists, this one is sealed, and a sealed segment whose torn
  // tail came back after a power loss would be refused as corrupt.
  auto w = fs_->open_writable(path);
  if (!w) return fail(errc::io_error, w.error().message());
  if (auto r = (*w)->sync(); !r) return fail(errc::io_error, r.error().message());
  return true;
}

result<void> write_ahead_log::make_spare(uint64_t bytes) {
  const std::string tmp = spare_path() + std::string(spare_tmp_suffix);
  auto w = fs_->open_writable(tmp);
  if (!w) return fail(errc::write_failed, "preallocating a segment: " + w.error().message());
  static const std::vector<std::byte> zeros(1u << 20);
  for (uint64_t at = 0; at < bytes;) {
    if (spare_stop_.load(std::memory_order_relaxed)) {
      (void)(*w)->close();
      (void)fs_->remove(tmp);
      return fail(errc::closed, "the log is closing");
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes - at));
    auto r = (*w)->write_at(at, std::span(zeros.data(), n));
    // Synced as it goes: a whole segment of dirty zeros would be flushed in one burst ahead of
    // the log's own syncs, and push the log's writes into the kernel's dirty-page throttling.
    if (r && (at + n) % prealloc_sync_every == 0) r = (*w)->sync();
    if (!r) {
      (void)(*w)->close();
      (void)fs_->remove(tmp);
      return fail(errc::write_failed, "preallocating a segment: " + r.error().message());
    }
    at += n;
  }
  auto step = [&](result<void> r) -> result<void> {
    if (!r) (void)fs_->remove(tmp);
    if (!r) return fail(errc::write_failed, "preallocating a segment: " + r.error().message());
    return {};
  };
  // Synced before it takes its name: a spare found at recovery is all zeros.
  if (auto r = step((*w)->sync()); !r) return r;
  if (auto r = step((*w)->close()); !r) return r;
  if (auto r = step(fs_->rename(tmp, spare_path())); !r) return r;
  if (auto r = fs_->sync_dir(opts_.dir); !r)
    return fail(errc::write_failed, "preallocating a segment: " + r.error().message());
  return {};
}

void write_ahead_log::run_preallocator() {
  for (;;) {
    uint64_t bytes = 0;
    {
      std::unique_lock lock(spare_mu_);
      spare_cv_.wait(lock, [&] { return spare_stop_.load() || spare_ == spare_state::wanted; });
      if (spare_stop_.load()) return;
      bytes = spare_bytes_;
    }
    auto made = make_spare(bytes);
    {
      std::lock_guard lock(spare_mu_);
      if (made) {
        spare_ = spare_state::ready;
      } else {
        spare_ = spare_state::failed;
        spare_error_ = made.error();
      }
    }
    spare_cv_.notify_all();
  }
}

void write_ahead_log::want_spare(uint64_t bytes) {
  {
    std::lock_guard lock(spare_mu_);
    if (spare_ != spare_state::none) return;  // one is ready or on its way
    spare_ = spare_state::wanted;
    spare_bytes_ = bytes;
  }
  spare_cv_.notify_all();
}

std::optional<uint64_t> write_ahead_log::take_spare() {
  std::unique_lock lock(spare_mu_);
  // Only a roll that outruns the preallocator waits here, for the rest of its fill.
  spare_cv_.wait(lock, [&] { return spare_ != spare_state::wanted || spare_stop_.load(); });
  if (spare_ == spare_state::ready) {
    spare_ = spare_state::none;
    return spare_bytes_;
  }
  if (spare_ == spare_state::failed) {
    log().warn("could not preallocate the next segment ({}); writing a plain, growing one instead",
               spare_error_.message());
    spare_ = spare_state::none;
  }
  return std::nullopt;
}

result<void> write_ahead_log::open_new_segment(uint64_t first_lsn) {
  const std::string path = opts_.dir + "/" + format::segment_name(first_lsn);
  uint64_t capacity = opts_.segment_bytes;
  bool preallocated = false;
  if (opts_.preallocate) {
    std::optional<uint64_t> spare = take_spare();  // a fill in progress is waited for
    if (!spare && !preallocator_.joinable()) {
      // Opening, with no spare left by the last run: the first one is made here, at once.
      const uint64_t first = std::min(opts_.first_segment_bytes, opts_.segment_bytes);
      if (auto made = make_spare(first); made) spare = first;
      else
        log().warn("could not preallocate the first segment ({}); writing a plain, growing one instead",
                   made.error().message());
    }
    if (spare) {
      if (auto r = fs_->rename(spare_path(), path); !r)
        return fail(errc::write_failed, "creating segment: " + r.error().message());
      capacity = std::min(*spare, opts_.segment_bytes);
      preallocated = true;
    }
  }
  auto w = fs_->open_writable(path);
  if (!w) return fail(errc::write_failed, "creating segment: " + w.error().message());
  std::byte header[format::segment_header_size];
  format::encode_segment_header(header, first_lsn);
  if (auto r = (*w)->write_at(0, header); !r) return fail(errc::write_failed, "segment header: " + r.error().message());
  if (auto r = (*w)->sync(); !r) return fail(errc::sync_failed, "new segment: " + r.error().message());
  if (auto r = fs_->sync_dir(opts_.dir); !r) return fail(errc::sync_failed, "new segment: " + r.error().message());
  auto reader = fs_->open_readable(path);
  if (!reader) return fail(errc::io_error, "new segment: " + reader.error().message());
  if (active_) (void)active_->close();
  active_ = std::move(*w);
  active_first_lsn_ = first_lsn;
  write_pos_ = format::segment_header_size;
  capacity_ = capacity;
  // The next one is made while this one fills: twice this size, up to segment_bytes.
  if (opts_.preallocate)
    want_spare(std::min(opts_.segment_bytes, std::max(preallocated ? 2 * capacity : 0, opts_.first_segment_bytes)));
  std::lock_guard lock(segments_mu_);
  segments_[first_lsn] = segment{first_lsn, path, std::shared_ptr<readable_file>(std::move(*reader))};
  return {};
}

void write_ahead_log::record_failure(error e) {
  std::lock_guard lock(mu_);
  if (sticky_) return;
  sticky_ = std::move(e);
}

result<void> write_ahead_log::replay(const std::function<void(const record_view&)>& visit) const {
  return replay(visit, {}, std::chrono::nanoseconds::max());
}

result<void> write_ahead_log::replay(const std::function<void(const record_view&)>& visit,
                                     const replay_progress& progress, std::chrono::nanoseconds every) const {
  std::vector<segment> segs;
  {
    std::lock_guard lock(segments_mu_);
    for (auto& [first, s] : segments_) segs.push_back(s);
  }
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (auto& s : segs) {
    auto size = s.reader->size();
    if (!size) return fail(errc::io_error, size.error().message());
    sizes.push_back(*size);
    total += *size;
  }
  uint64_t base = 0, records = 0;
  auto last = std::chrono::steady_clock::now();
  const std::function<void(const record_view&)> counted = [&](const record_view& r) {
    visit(r);
    if (!progress || (++records & 4095) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last < every) return;
    last = now;
    progress(base + r.pos.offset, total);
  };
  for (size_t i = 0; i < segs.size(); ++i) {
    auto& s = segs[i];
    auto scan = scan_segment(*s.reader, sizes[i], s.first_lsn, progress ? &counted : &visit);
    if (!scan) return fail(errc::io_error, scan.error().message());
    if (!scan->problem.empty())
      return fail(errc::corrupt_segment, "segment " + s.path + " changed after recovery: " + scan->problem);
    base += sizes[i];
  }
  if (progress) progress(total, total);
  return {};
}

result<void> write_ahead_log::append(uint32_t stream, uint8_t type, payload data, completion done, when_full full) {
  const size_t size = framed_size(data);
  if (data.bytes.size() > format::max_record_payload || size + format::segment_header_size > opts_.segment_bytes)
    return fail(errc::record_too_large);
  std::unique_lock lock(mu_);
  for (;;) {
    if (sticky_) return fail(sticky_);
    if (closing_) return fail(errc::closed, "the log is closed");
    // A record larger than the whole bound still goes alone into an empty log.
    if (queue_bytes_ + size <= opts_.max_queue_bytes || queue_bytes_ == 0) break;
    if (full == when_full::fail) return fail(errc::queue_full);
    // Waiting for space: a wake-up this thread's scope holds back would never come.
    if (deferring == this && std::exchange(wake_deferred, false)) work_cv_.notify_one();
    space_cv_.wait(lock);
  }
  queue_.push_back(entry{next_lsn_++, stream, type, std::move(data), std::move(done), clock::now()});
  queue_bytes_ += size;
  // Wake the sync thread only when this append can change its decision.
  const bool wake = queue_.size() == 1 || queue_.size() >= policy_.min_batches || queue_bytes_ >= policy_.buffer_bytes;
  lock.unlock();
  if (!wake) return {};
  if (deferring == this) wake_deferred = true;  // the scope's end wakes it, or commits here
  else work_cv_.notify_one();
  return {};
}

void write_ahead_log::fail_all(std::deque<entry>& group, const error& e) {
  for (auto& en : group) en.done(fail(e));
  group.clear();
}

bool write_ahead_log::take_group(std::deque<entry>& group, group_stats& stats, error& failed) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (queue_.empty() || committing_) {  // nothing to cut, or an appender is committing a group
      if (closing_ && queue_.empty() && !committing_) return false;
      work_cv_.wait(lock);
      continue;
    }
    if (sticky_) {  // a failed log fails what is queued at once, whatever the policy says
      failed = sticky_;
      break;
    }
    if (closing_) {
      stats.reason = flush_reason::shutdown;
      break;
    }
    const auto now = clock::now();
    pending_state p{queue_.size(), queue_bytes_, now - queue_.front().enqueued};
    if (auto reason = should_cut(p, policy_)) {
      stats.reason = *reason;
      break;
    }
    work_cv_.wait_until(lock, queue_.front().enqueued + policy_.linger);
  }
  committing_ = true;
  cut(lock, group, stats, static_cast<bool>(failed));
  return true;
}

void write_ahead_log::cut(std::unique_lock<std::mutex>& lock, std::deque<entry>& group, group_stats& stats,
                          bool failed) {
  const auto now = clock::now();
  stats.queue_records = queue_.size();
  stats.queue_bytes = queue_bytes_;
  stats.oldest_wait = now - queue_.front().enqueued;
  stats.idle_before = now - idle_since_;
  uint64_t bytes = 0;
  // A group takes records in log order up to its caps, and always at least one.
  const group_caps& caps = opts_.caps;
  while (!queue_.empty() &&
         (failed || (group.size() < caps.max_records &&
                     (group.empty() || bytes + framed_size(queue_.front().data) <= caps.max_bytes)))) {
    bytes += framed_size(queue_.front().data);
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  assert(!group.empty() && bytes <= queue_bytes_);
  queue_bytes_ -= bytes;
  lock.unlock();
  space_cv_.notify_all();
}

bool write_ahead_log::try_commit_here() {
  group_stats stats{};
  {
    std::unique_lock lock(mu_);
    // Busy, failed or closing: the sync thread deals with it, as it would have without a scope.
    if (committing_ || sticky_ || closing_ || queue_.empty()) return false;
    if (clock::now() - idle_since_ < opts_.appender_commit_after_idle) return false;  // see options
    const pending_state p{queue_.size(), queue_bytes_, clock::now() - queue_.front().enqueued};
    const auto reason = should_cut(p, policy_);
    if (!reason) return false;  // the policy waits: the sync thread keeps the linger
    stats.reason = *reason;
    stats.by_appender = true;
    committing_ = true;
    cut(lock, group_, stats, false);
  }
  commit_group(group_, stats, error{});
  return true;
}

result<void> write_ahead_log::write_group(const std::deque<entry>& group, std::vector<appended>& done,
                                          group_stats& stats) {
  assert(!group.empty() && active_);  // take_group cuts at least one record; a failed log writes nothing
  done.resize(group.size());
  const auto start = clock::now();
  std::chrono::nanoseconds not_writing{0};  // roll syncs and waits, reported apart from the write
  auto write_out = [&]() -> result<void> {
    if (write_buffer_.empty()) return {};
    auto r = active_->write_at(write_pos_, write_buffer_);
    if (r) write_pos_ += write_buffer_.size();
    write_buffer_.clear();
    if (!r) return fail(errc::write_failed, r.error().message());
    return {};
  };
  for (size_t i = 0; i < group.size(); ++i) {
    auto& e = group[i];
    const size_t size = framed_size(e.data);
    const uint64_t end = write_pos_ + write_buffer_.size();
    if (end + size > capacity_ && end > format::segment_header_size) {
      // Roll: what went to the old segment must be durable before this group is acknowledged.
      if (auto r = write_out(); !r) return r;
      const auto w0 = clock::now();
      if (auto r = active_->sync(); !r) return fail(errc::sync_failed, r.error().message());
      stats.sync += clock::now() - w0;
      if (auto r = open_new_segment(e.lsn); !r) return r;
      not_writing += clock::now() - w0;
    }
    const size_t at = write_buffer_.size();
    write_buffer_.resize(at + size);
    std::byte* h = write_buffer_.data() + at;
    if (!e.data.bytes.empty()) std::memcpy(h + format::record_header_size, e.data.bytes.data(), e.data.bytes.size());
    format::seal_record(h, static_cast<uint32_t>(e.data.bytes.size()), e.type, e.stream, e.lsn);
    done[i] = appended{e.lsn, position{active_first_lsn_, write_pos_ + at}, static_cast<uint32_t>(e.data.bytes.size())};
    stats.records++;
    stats.bytes += e.data.bytes.size();
  }
  auto written = write_out();
  stats.write = clock::now() - start - not_writing;
  return written;
}

void write_ahead_log::run() {
  for (;;) {
    group_stats stats{};
    error failed;
    if (!take_group(group_, stats, failed)) return;
    commit_group(group_, stats, std::move(failed));
  }
}

void write_ahead_log::commit_group(std::deque<entry>& group, group_stats& stats, error failed) {
  std::vector<appended>& done = done_;
  if (!failed) {
    const position start{active_first_lsn_, write_pos_};
    auto r = write_group(group, done, stats);
    if (r) {
      const auto s0 = clock::now();
      if (auto s = active_->sync(); !s) r = fail(errc::sync_failed, s.error().message());
      stats.sync += clock::now() - s0;
    }
    if (!r) {
      record_failure(
          error(r.error().code(), "group from lsn " + std::to_string(group.front().lsn) + ": " + r.error().message()));
      log().error("log failed, refusing further appends: {}", r.error().message());
      if (auto cut = cut_back(start); cut) {
        std::lock_guard lock(mu_);
        cut_back_ = true;
        log().error(
            "the failed group (from lsn {}) was cut off the log: segment {} truncated to {} bytes; "
            "nothing a producer was told failed will reappear. Fix the cause (free space, check the "
            "disk and dmesg), then restart kairo: the log accepts writes again only after recovery",
            group.front().lsn, format::segment_name(start.segment), start.offset);
      } else {
        log().critical(
            "the failed group (from lsn {}) could not be cut off the log ({}): records from lsn {} "
            "that producers were told failed may reappear after a restart",
            group.front().lsn, cut.error().message(), group.front().lsn);
        std::lock_guard lock(mu_);
        sticky_ = error(sticky_.code(),
                        sticky_.message() + "; cutting the failed group off failed too: " + cut.error().message());
      }
      std::lock_guard lock(mu_);
      failed = sticky_;
    }
  }
  std::function<void(const group_stats&)> observer;
  std::function<void()> before, after;
  {
    std::lock_guard lock(mu_);
    observer = observer_;
    before = before_completions_;
    after = after_completions_;
  }
  if (failed) {  // what is still queued is failed by the next take_group
    if (before) before();
    fail_all(group, failed);
  } else {
    // The observer sees a group before its acks go out, so that metrics scraped by a client
    // that holds an ack already count the group that produced it.
    if (observer) observer(stats);
    assert(done.size() == group.size());
    if (before) before();
    for (size_t i = 0; i < group.size(); ++i) group[i].done(done[i]);
    group.clear();
  }
  if (after) after();
  idle_since_ = clock::now();
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    committing_ = false;
    // The sync thread waits while the role is taken: what queued meanwhile (or a close) is its.
    wake = !queue_.empty() || closing_;
  }
  if (wake) work_cv_.notify_one();
}

write_ahead_log::commit_scope::commit_scope(write_ahead_log& log) : log_(deferring ? nullptr : &log) {
  if (!log_) return;
  deferring = log_;
  wake_deferred = false;
}

write_ahead_log::commit_scope::~commit_scope() { end(false); }

bool write_ahead_log::commit_scope::commit() {
  end(true);
  return committed_;
}

void write_ahead_log::commit_scope::end(bool may_commit) {
  if (!log_) return;
  write_ahead_log* log = std::exchange(log_, nullptr);
  // Cleared first: appends made by the completions this thread may now run wake as usual.
  deferring = nullptr;
  if (!std::exchange(wake_deferred, false)) return;  // no append of this scope changed anything
  if (may_commit && log->try_commit_here()) {
    committed_ = true;
    return;
  }
  log->work_cv_.notify_one();
}

result<void> write_ahead_log::cut_back(position start) {
  // The failed group's bytes (written, perhaps partly, perhaps even synced by a roll) go: every
  // segment it opened is removed and the one it began in is truncated to where it began. Then a
  // restart recovers exactly what was acknowledged, and a full disk gets the space back.
  std::optional<error> first;  // the first step that failed; the others are still tried
  auto note = [&](const error& e) {
    if (!first) first = e;
  };
  std::string start_path;
  {
    std::lock_guard lock(segments_mu_);
    segments_.erase(segments_.upper_bound(start.segment), segments_.end());
    if (auto it = segments_.find(start.segment); it != segments_.end()) start_path = it->second.path;
  }
  if (active_) {
    (void)active_->close();
    active_.reset();
  }
  // From the directory, not segments_: a roll that failed half way leaves a file never listed.
  std::vector<std::string> later;
  if (auto names = fs_->list(opts_.dir); !names) {
    note(names.error());
  } else {
    for (auto& n : *names)
      if (auto f = format::parse_segment_name(n); f && *f > start.segment) later.push_back(opts_.dir + "/" + n);
  }
  for (auto& path : later)
    if (auto r = fs_->remove(path); !r) note(r.error());
  if (!later.empty())
    if (auto r = fs_->sync_dir(opts_.dir); !r) note(r.error());
  if (start_path.empty()) {
    note(error(errc::io_error, "segment " + format::segment_name(start.segment) + " is not known"));
  } else if (auto r = fs_->truncate(start_path, start.offset); !r) {
    note(r.error());
  } else if (auto w = fs_->open_writable(start_path); !w) {
    note(w.error());
  } else {
    if (auto sy = (*w)->sync(); !sy) note(sy.error());
    active_ = std::move(*w);
    active_first_lsn_ = start.segment;
    write_pos_ = start.offset;
  }
  if (first) return fail(*first);
  if (!later.empty()) log().error("{} newer segment(s) created by the failed group were removed", later.size());
  return {};
}

result<void> write_ahead_log::read_payload(position pos, std::span<std::byte> out) const {
  auto reader = reader_for(pos.segment);
  if (!reader) return fail(errc::bad_position);
  auto got = reader->read_at(pos.offset + format::record_header_size, out);
  if (!got) return fail(errc::io_error);
  if (*got != out.size()) return fail(errc::bad_position);
  return {};
}

result<std::vector<std::byte>> write_ahead_log::read_verified(position pos) const {
  auto reader = reader_for(pos.segment);
  if (!reader) return fail(errc::bad_position);
  std::byte h[format::record_header_size];
  auto got = reader->read_at(pos.offset, h);
  if (!got) return fail(errc::io_error);
  if (*got != sizeof h) return fail(errc::bad_position);
  const uint32_t len = format::decode_record_header(h).length;
  if (len > format::max_record_payload) return fail(errc::bad_position);
  std::vector<std::byte> rec(format::record_header_size + len);
  got = reader->read_at(pos.offset, rec);
  if (!got) return fail(errc::io_error);
  if (*got != rec.size()) return fail(errc::bad_position);
  if (format::record_crc(rec.data(), rec.size()) != format::decode_record_header(rec.data()).crc)
    return fail(errc::corrupt_segment);
  rec.erase(rec.begin(), rec.begin() + format::record_header_size);
  return rec;
}

std::shared_ptr<readable_file> write_ahead_log::reader_for(uint64_t seg) const {
  std::lock_guard lock(segments_mu_);
  auto it = segments_.find(seg);
  return it == segments_.end() ? nullptr : it->second.reader;
}

void write_ahead_log::set_policy(const flush_policy& p) {
  {
    std::lock_guard lock(mu_);
    policy_ = p;
  }
  work_cv_.notify_one();  // a shorter linger or smaller min_batches may allow a cut now
}

flush_policy write_ahead_log::policy() const {
  std::lock_guard lock(mu_);
  return policy_;
}

void write_ahead_log::set_observer(std::function<void(const group_stats&)> observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

void write_ahead_log::set_completion_hooks(std::function<void()> before, std::function<void()> after) {
  std::lock_guard lock(mu_);
  before_completions_ = std::move(before);
  after_completions_ = std::move(after);
}

void write_ahead_log::close() {
  {
    std::lock_guard lock(mu_);
    if (closing_ && !sync_thread_.joinable()) return;
    closing_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  // After the sync thread, which may be waiting for a spare at a roll: a fill still running now
  // is not needed, and stops.
  {
    std::lock_guard lock(spare_mu_);  // under the lock: the preallocator cannot miss the wake-up
    spare_stop_ = true;
  }
  spare_cv_.notify_all();
  if (preallocator_.joinable()) preallocator_.join();
  if (active_) {
    (void)active_->close();
    active_.reset();
  }
}

result<void> write_ahead_log::health() const {
  std::lock_guard lock(mu_);
  if (sticky_) return fail(sticky_);
  return {};
}

bool write_ahead_log::cut_back_done() const {
  std::lock_guard lock(mu_);
  return cut_back_;
}

std::vector<write_ahead_log::segment_info> write_ahead_log::segments() const {
  std::vector<std::shared_ptr<readable_file>> readers;
  std::vector<segment_info> out;
  {
    std::lock_guard lock(segments_mu_);
    for (const auto& [first, s] : segments_) {
      out.push_back({first, 0});
      readers.push_back(s.reader);
    }
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (auto size = readers[i]->size()) out[i].bytes = *size;
  return out;
}

result<uint64_t> write_ahead_log::remove_segments_before(uint64_t lsn) {
  std::lock_guard serial(remove_mu_);
  uint64_t removed = 0;
  for (;;) {
    segment victim;
    uint64_t bytes = 0;
    {
      std::lock_guard lock(segments_mu_);
      if (segments_.size() < 2) break;
      auto oldest = segments_.begin();
      auto next = std::next(oldest);
      if (next->first > lsn) break;  // the oldest still holds a record at or above lsn
      victim = oldest->second;
      segments_.erase(oldest);
    }
    if (auto size = victim.reader->size()) bytes = *size;
    if (auto r = fs_->remove(victim.path); !r)
      return fail(errc::io_error, "removing segment " + victim.path + ": " + r.error().message());
    if (auto r = fs_->sync_dir(opts_.dir); !r)
      return fail(errc::io_error,
                  "syncing " + opts_.dir + " after removing " + victim.path + ": " + r.error().message());
    removed += bytes;
  }
  return removed;
}

uint64_t write_ahead_log::next_lsn() const {
  std::lock_guard lock(mu_);
  return next_lsn_;
}

bool write_ahead_log::idle() const {
  std::lock_guard lock(mu_);
  return queue_.empty() && !committing_;
}

size_t write_ahead_log::queued_records() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

uint64_t write_ahead_log::queued_bytes() const {
  std::lock_guard lock(mu_);
  return queue_bytes_;
}

}  // namespace wal
