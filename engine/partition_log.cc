#include "engine/partition_log.h"

#include <algorithm>

#include "engine/errc.h"
#include "engine/logger.h"
#include "wal/errc.h"

namespace engine {

std::error_code from_wal_error(std::error_code ec) {
  if (ec == wal::errc::queue_full) return errc::busy;
  if (ec == wal::errc::closed) return errc::shutting_down;
  return errc::storage_error;
}

namespace {
// The call whose wal.append() this thread is inside: a completion that runs while this is set
// for its own call is the WAL refusing inline.
thread_local const void* t_appending = nullptr;
}  // namespace

// The shared state of one append() call: it finishes when every appended batch completed and
// append() itself let go of its reference.
struct partition_log::append_call {
  append_call(size_t refs, produce_callback cb) : remaining(refs), done(std::move(cb)) {}

  void note_failure(std::error_code ec) {
    std::lock_guard lock(mu);
    if (!error) error = ec;
  }
  void release(size_t n) {
    if (remaining.fetch_sub(n, std::memory_order_acq_rel) != n) return;
    std::error_code ec;
    {
      std::lock_guard lock(mu);
      ec = error;
    }
    if (ec) {
      done(fail(ec));
    } else {
      done(produce_result{base_offset, log_start_offset});
    }
  }

  std::atomic<size_t> remaining;
  produce_callback done;
  // Written by append() before its own release; read by whoever releases last.
  int64_t base_offset = 0;
  int64_t log_start_offset = 0;
  bool refused_inline = false;  // only touched by the thread inside append()
  std::mutex mu;
  std::error_code error;  // guarded by mu; the first failure
};

void partition_log::recover(int64_t base_offset, int64_t last_offset, int64_t max_timestamp, wal::position pos,
                            uint32_t size) {
  std::lock_guard lock(mu_);
  if (base_offset < next_offset_ || last_offset < base_offset) {
    log().error("stream {}: skipping WAL record at segment {} byte {} with offsets [{}, {}]: the log is already at {}",
                stream_, pos.segment, pos.offset, base_offset, last_offset, next_offset_);
    return;
  }
  if (base_offset > next_offset_)
    log().warn("stream {}: offsets [{}, {}) are missing from the WAL", stream_, next_offset_, base_offset);
  const int64_t so_far = index_.empty() ? max_timestamp : std::max(index_.back().max_timestamp_so_far, max_timestamp);
  index_.push_back(index_entry{base_offset, last_offset, max_timestamp, so_far, pos, size});
  next_offset_ = high_watermark_ = last_offset + 1;
}

void partition_log::append(wal::write_ahead_log& wal, std::span<std::byte> records,
                           const std::vector<batch_info>& batches, std::shared_ptr<const void> owner,
                           produce_callback done) {
  auto call = std::make_shared<append_call>(batches.size() + 1, std::move(done));
  std::unique_lock lock(mu_);
  if (retired_) {
    lock.unlock();
    call->done(fail(errc::unknown_topic_or_partition));
    return;
  }
  call->base_offset = next_offset_;
  call->log_start_offset = log_start_offset_;
  auto self = shared_from_this();
  size_t refused = batches.size();
  for (size_t i = 0; i < batches.size(); ++i) {
    const batch_info& b = batches[i];
    const int64_t base = next_offset_;
    const auto bytes = records.subspan(b.offset, b.size());
    set_base_offset(bytes, base);
    next_offset_ = base + int64_t{b.header.last_offset_delta} + 1;
    const index_entry entry{base, next_offset_ - 1, b.header.max_timestamp, b.header.max_timestamp, {}, 0};
    t_appending = call.get();
    wal.append(stream_, wal_type_record_batch, wal::payload{owner, bytes},
               [self, call, entry](const wal::result<wal::appended>& r) { self->on_durable(*call, entry, r); });
    t_appending = nullptr;
    if (call->refused_inline) {
      // Offsets from this batch on never reached the WAL queue: hand them out again, stop here.
      next_offset_ = base;
      refused = i;
      break;
    }
  }
  if (refused == batches.size()) {
    // Every batch is queued. Dropping our reference under mu_ cannot be the last release, since
    // each completion takes mu_ before it releases; so `done` runs on the sync thread, after the
    // last batch's completion, in offset order with this partition's other produces.
    call->release(1);
    return;
  }
  lock.unlock();
  call->release(batches.size() - refused + 1);  // the refused batch, the ones never appended, ours
}

void partition_log::on_durable(append_call& call, index_entry entry, const wal::result<wal::appended>& r) {
  if (t_appending == &call) {
    // The WAL refused at append and runs us inline, inside append() under mu_: append() accounts
    // for this batch.
    call.note_failure(r ? std::error_code(errc::storage_error) : from_wal_error(r.error()));
    call.refused_inline = true;
    return;
  }
  std::unordered_map<uint64_t, wake_fn> wake;
  {
    std::lock_guard lock(mu_);
    if (!r) {
      call.note_failure(from_wal_error(r.error()));
    } else {
      entry.pos = r->pos;
      entry.size = r->size;
      if (!index_.empty())
        entry.max_timestamp_so_far = std::max(entry.max_timestamp, index_.back().max_timestamp_so_far);
      index_.push_back(entry);
      high_watermark_ = entry.last_offset + 1;
      if (!waiters_.empty()) wake = take_waiters();
    }
  }
  for (auto& [id, fn] : wake) fn();
  call.release(1);
}

result<fetch_result> partition_log::read(const wal::write_ahead_log& wal, int64_t offset, size_t max_bytes) const {
  fetch_result out;
  std::vector<index_entry> picked;
  {
    std::lock_guard lock(mu_);
    out.high_watermark = high_watermark_;
    out.log_start_offset = log_start_offset_;
    if (offset < log_start_offset_ || offset > high_watermark_) return fail(errc::offset_out_of_range);
    auto it = std::partition_point(index_.begin(), index_.end(),
                                   [offset](const index_entry& e) { return e.last_offset < offset; });
    size_t bytes = 0;
    for (; it != index_.end(); ++it) {
      if (!picked.empty() && bytes + it->size > max_bytes) break;  // at least one whole batch, as Kafka does
      bytes += it->size;
      picked.push_back(*it);
    }
  }
  out.batches.reserve(picked.size());
  for (const auto& e : picked) {
    std::vector<std::byte> buf(e.size);
    if (auto r = wal.read_payload(e.pos, buf); !r) {
      log().error("stream {}: reading offsets [{}, {}] at segment {} byte {} failed: {}", stream_, e.base_offset,
                  e.last_offset, e.pos.segment, e.pos.offset, r.error().message());
      return fail(errc::storage_error);
    }
    out.bytes += buf.size();
    out.batches.push_back(std::move(buf));
  }
  return out;
}

offset_at_time partition_log::offset_for_timestamp(int64_t timestamp) const {
  constexpr int64_t latest = -1;
  constexpr int64_t earliest = -2;
  std::lock_guard lock(mu_);
  if (timestamp == earliest) return {log_start_offset_, -1};
  if (timestamp == latest) return {high_watermark_, -1};
  if (timestamp < 0) return {};
  auto it = std::partition_point(index_.begin(), index_.end(), [timestamp](const index_entry& e) {
    return e.max_timestamp_so_far < timestamp;
  });
  if (it == index_.end()) return {};
  return {it->base_offset, it->max_timestamp};
}

partition_state partition_log::state() const {
  std::lock_guard lock(mu_);
  return {log_start_offset_, high_watermark_, next_offset_};
}

wait_handle partition_log::wait(int64_t offset, wake_fn wake) {
  std::lock_guard lock(mu_);
  if (retired_ || high_watermark_ > offset) return {};
  const uint64_t id = next_waiter_id_++;
  waiters_.emplace(id, std::move(wake));
  return {weak_from_this(), id};
}

bool partition_log::cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  return waiters_.erase(id) > 0;
}

void partition_log::retire() {
  std::unordered_map<uint64_t, wake_fn> wake;
  {
    std::lock_guard lock(mu_);
    retired_ = true;
    wake = take_waiters();
  }
  for (auto& [id, fn] : wake) fn();
}

void partition_log::wake_all() {
  std::unordered_map<uint64_t, wake_fn> wake;
  {
    std::lock_guard lock(mu_);
    wake = take_waiters();
  }
  for (auto& [id, fn] : wake) fn();
}

std::unordered_map<uint64_t, wake_fn> partition_log::take_waiters() {
  std::unordered_map<uint64_t, wake_fn> out;
  out.swap(waiters_);
  return out;
}

}  // namespace engine
