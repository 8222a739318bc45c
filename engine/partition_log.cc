#include "engine/partition_log.h"

#include <algorithm>

#include "engine/control_batch.h"
#include "engine/errc.h"
#include "engine/logger.h"
#include "wal/errc.h"

namespace engine {

util::error from_wal_error(const util::error& e) {
  if (e == wal::errc::queue_full) return {errc::busy, e.message()};
  if (e == wal::errc::closed) return {errc::shutting_down, e.message()};
  return {errc::storage_error, e.message()};
}

// The shared state of one append() call: it finishes when every appended batch completed and
// append() itself let go of its reference.
struct partition_log::append_call {
  append_call(size_t refs, produce_callback cb) : remaining(refs), done(std::move(cb)) {}

  void note_failure(util::error e) {
    std::lock_guard lock(mu);
    if (!error) error = std::move(e);
  }
  void release(size_t n) {
    if (remaining.fetch_sub(n, std::memory_order_acq_rel) != n) return;
    util::error e;
    {
      std::lock_guard lock(mu);
      e = error;
    }
    if (e) {
      done(fail(e));
    } else {
      done(produce_result{base_offset, log_start_offset});
    }
  }

  std::atomic<size_t> remaining;
  produce_callback done;
  // Written by append() before its own release; read by whoever releases last.
  int64_t base_offset = 0;
  int64_t log_start_offset = 0;
  std::mutex mu;
  util::error error;  // guarded by mu; the first failure
};

void partition_log::recover(const std::vector<batch_info>& batches, std::span<const std::byte> payload,
                            wal::position pos, uint32_t size) {
  std::lock_guard lock(mu_);
  const int64_t base_offset = batches.front().header.base_offset;
  const int64_t last_offset = batches.back().header.last_offset();
  if (base_offset < next_offset_ || last_offset < base_offset) {
    log().error("stream {}: skipping WAL record at segment {} byte {} with offsets [{}, {}]: the log is already at {}",
                stream_, pos.segment, pos.offset, base_offset, last_offset, next_offset_);
    return;
  }
  if (base_offset > next_offset_) {
    if (index_.empty() && log_start_offset_ == next_offset_) {
      // Retention removed the segments before this one: the log starts here (a log start record
      // later in the WAL may move it further).
      log_start_offset_ = base_offset;
    } else {
      log().warn("stream {}: offsets [{}, {}) are missing from the WAL", stream_, next_offset_, base_offset);
    }
  }
  int64_t max_ts = -1;
  const int64_t now = now_ms();
  for (const auto& b : batches) {
    max_ts = std::max(max_ts, b.header.max_timestamp);
    if (b.header.producer_id < 0) continue;
    if (b.header.control()) {
      // A marker found by replay is durable: the transaction is over here.
      auto commit = control_batch_commit(payload.subspan(b.offset, b.size()));
      if (!commit) {
        log().error("stream {}: control batch at offset {} is not a transaction marker; ignoring it", stream_,
                    b.header.base_offset);
        continue;
      }
      auto closed =
          producers_.end_txn(b.header.producer_id, b.header.producer_epoch, *commit, b.header.base_offset, -1, now);
      if (closed && !closed->commit) aborted_.push_back(*closed);
    } else {
      producers_.append(b.header, b.header.base_offset, now);
    }
  }
  add_to_index(index_entry{base_offset, last_offset, max_ts, max_ts, pos, size});
  next_offset_ = high_watermark_ = last_offset + 1;
}

void partition_log::add_to_index(index_entry entry) {
  entry.max_timestamp_so_far =
      index_.empty() ? entry.max_timestamp : std::max(entry.max_timestamp, index_.back().max_timestamp_so_far);
  index_bytes_ += entry.size;
  index_.push_back(entry);
}

void partition_log::move_log_start(int64_t offset) {
  if (offset <= log_start_offset_) return;
  log_start_offset_ = offset;
  while (!index_.empty() && index_.front().last_offset < offset) {
    index_bytes_ -= index_.front().size;
    index_.pop_front();
  }
  // Aborted transactions wholly below the log start cannot overlap any fetch any more.
  auto live = std::partition_point(aborted_.begin(), aborted_.end(),
                                   [offset](const closed_txn& t) { return t.last_offset < offset; });
  aborted_.erase(aborted_.begin(), live);
}

void partition_log::recover_log_start(int64_t offset) {
  std::lock_guard lock(mu_);
  move_log_start(offset);
  if (next_offset_ < log_start_offset_) next_offset_ = high_watermark_ = log_start_offset_;
}

namespace {

void put_le64(std::vector<std::byte>& out, size_t at, int64_t value) {
  auto v = static_cast<uint64_t>(value);
  for (size_t i = 0; i < 8; ++i, v >>= 8) out[at + i] = std::byte(v & 0xff);
}

int64_t get_le64(std::span<const std::byte> in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v |= static_cast<uint64_t>(in[at + i]) << (8 * i);
  return static_cast<int64_t>(v);
}

std::vector<std::byte> encode_log_start(int64_t offset) {
  std::vector<std::byte> out(9);
  out[0] = std::byte{1};
  put_le64(out, 1, offset);
  return out;
}

std::vector<std::byte> encode_relocation(int64_t log_start, int64_t end) {
  std::vector<std::byte> out(17);
  out[0] = std::byte{1};
  put_le64(out, 1, log_start);
  put_le64(out, 9, end);
  return out;
}

}  // namespace

std::optional<int64_t> decode_log_start(std::span<const std::byte> payload) {
  if (payload.size() != 9 || payload[0] != std::byte{1}) return std::nullopt;
  const int64_t offset = get_le64(payload, 1);
  if (offset < 0) return std::nullopt;
  return offset;
}

std::optional<relocation_range> decode_relocation(std::span<const std::byte> payload) {
  if (payload.size() != 17 || payload[0] != std::byte{1}) return std::nullopt;
  relocation_range r{get_le64(payload, 1), get_le64(payload, 9)};
  if (r.log_start < 0 || r.end <= r.log_start) return std::nullopt;
  return r;
}

void partition_log::reset_for_relocation(int64_t log_start, int64_t first_base) {
  std::lock_guard lock(mu_);
  index_.clear();
  index_bytes_ = 0;
  aborted_.clear();
  producers_ = producer_state(opts_.producer_ttl_ms);
  log_start_offset_ = log_start;
  next_offset_ = high_watermark_ = first_base;
}

void partition_log::relocate(wal::write_ahead_log& wal, std::function<void(const result<uint64_t>&)> done) {
  // 1. What to copy, as it stands now.
  std::vector<index_entry> entries;
  int64_t start = 0;
  int64_t end = 0;
  {
    std::lock_guard lock(mu_);
    if (retired_ || index_.empty()) return done(uint64_t{0});
    if (next_offset_ != high_watermark_) return done(fail(errc::busy));
    entries.assign(index_.begin(), index_.end());
    start = log_start_offset_;
    end = next_offset_;
  }
  // 2. The bytes, read without the lock (retention is the only one that removes segments, and
  // it is the caller).
  struct copy {
    index_entry original;
    std::shared_ptr<std::vector<std::byte>> bytes;
  };
  std::vector<copy> copies;
  copies.reserve(entries.size());
  uint64_t total = 0;
  for (const auto& e : entries) {
    auto buf = std::make_shared<std::vector<std::byte>>(e.size);
    if (auto r = wal.read_payload(e.pos, *buf); !r) return done(fail(errc::storage_error, r.error().message()));
    total += e.size;
    copies.push_back({e, std::move(buf)});
  }
  // 3. The relocation record and the copies, queued together under the lock (so no batch of this
  // partition comes between them), if nothing changed meanwhile.
  struct progress {
    std::mutex mu;
    size_t left = 0;
    util::error first;
    std::vector<std::pair<int64_t, wal::appended>> moved;  // base offset -> where its copy is
  };
  auto pr = std::make_shared<progress>();
  pr->left = copies.size() + 1;
  auto self = shared_from_this();
  auto answer = std::make_shared<std::function<void(const result<uint64_t>&)>>(std::move(done));
  auto finish_one = [self, pr, answer, total](std::optional<std::pair<int64_t, wal::appended>> moved,
                                              const util::error& err) {
    bool last = false;
    {
      std::lock_guard l(pr->mu);
      if (err && !pr->first) pr->first = err;
      if (moved) pr->moved.push_back(*moved);
      last = --pr->left == 0;
    }
    if (!last) return;
    if (pr->first) return (*answer)(fail(pr->first));
    {
      // 4. Durable: the index points at the copies (the entries still there; the log start may
      // have moved past some meanwhile).
      std::lock_guard l(self->mu_);
      for (const auto& [base, at] : pr->moved) {
        auto it = std::lower_bound(self->index_.begin(), self->index_.end(), base,
                                   [](const index_entry& x, int64_t off) { return x.base_offset < off; });
        if (it != self->index_.end() && it->base_offset == base) {
          it->pos = at.pos;
          it->size = at.size;
        }
      }
    }
    (*answer)(total);
  };
  std::unique_lock lock(mu_);
  if (retired_ || log_start_offset_ != start || next_offset_ != end || high_watermark_ != end) {
    lock.unlock();
    return (*answer)(fail(errc::busy));
  }
  auto header = std::make_shared<std::vector<std::byte>>(encode_relocation(start, end));
  size_t queued_count = 0;
  util::error refused;
  if (auto q = wal.append(stream_, wal_type_relocation, wal::payload{header, std::span<const std::byte>(*header)},
                          [finish_one](const wal::result<wal::appended>& r) {
                            finish_one(std::nullopt, r ? util::error() : from_wal_error(r.error()));
                          });
      !q) {
    refused = from_wal_error(q.error());
  } else {
    ++queued_count;
    for (const auto& c : copies) {
      const int64_t base = c.original.base_offset;
      auto q2 = wal.append(stream_, wal_type_record_batch, wal::payload{c.bytes, std::span<const std::byte>(*c.bytes)},
                           [finish_one, base](const wal::result<wal::appended>& r) {
                             if (!r) return finish_one(std::nullopt, from_wal_error(r.error()));
                             finish_one(std::make_pair(base, *r), util::error());
                           });
      if (!q2) {
        refused = from_wal_error(q2.error());
        break;
      }
      ++queued_count;
    }
  }
  lock.unlock();
  if (refused) {
    // What was queued completes on its own; the rest never will. Replay leaves an incomplete
    // copy alone, and the index keeps pointing at the originals.
    const size_t never = copies.size() + 1 - queued_count;
    for (size_t i = 0; i < never; ++i) finish_one(std::nullopt, refused);
  }
}

void partition_log::write_log_start(wal::write_ahead_log& wal, int64_t offset,
                                    std::function<void(const result<int64_t>&)> done) {
  std::unique_lock lock(mu_);
  if (retired_) {
    lock.unlock();
    return done(fail(errc::unknown_topic_or_partition));
  }
  if (offset == -1) offset = high_watermark_;
  if (offset < -1 || offset > high_watermark_) {
    lock.unlock();
    return done(fail(errc::offset_out_of_range));
  }
  offset = std::max(offset, log_start_offset_);
  auto payload = std::make_shared<std::vector<std::byte>>(encode_log_start(offset));
  auto self = shared_from_this();
  auto answer = std::make_shared<std::function<void(const result<int64_t>&)>>(std::move(done));
  auto queued = wal.append(stream_, wal_type_log_start, wal::payload{payload, std::span<const std::byte>(*payload)},
                           [self, offset, answer](const wal::result<wal::appended>& r) {
                             if (!r) return (*answer)(fail(from_wal_error(r.error())));
                             int64_t start = 0;
                             {
                               std::lock_guard l(self->mu_);
                               self->move_log_start(offset);
                               start = self->log_start_offset_;
                             }
                             (*answer)(start);
                           });
  if (!queued) {
    lock.unlock();
    (*answer)(fail(from_wal_error(queued.error())));
  }
}

int64_t partition_log::retention_start(int64_t now_ms, int64_t retention_ms, int64_t retention_bytes) const {
  std::lock_guard lock(mu_);
  int64_t start = log_start_offset_;
  size_t i = 0;
  if (retention_ms >= 0) {
    const int64_t cutoff = now_ms - retention_ms;
    while (i < index_.size() && index_[i].max_timestamp < cutoff) ++i;
  }
  if (retention_bytes >= 0) {
    uint64_t left = index_bytes_;
    for (size_t j = 0; j < i; ++j) left -= index_[j].size;
    while (i < index_.size() && left > static_cast<uint64_t>(retention_bytes)) left -= index_[i++].size;
  }
  if (i > 0) start = std::max(start, i < index_.size() ? index_[i].base_offset : index_[i - 1].last_offset + 1);
  return std::min(start, high_watermark_);
}

std::optional<uint64_t> partition_log::first_live_segment() const {
  std::lock_guard lock(mu_);
  if (index_.empty()) return std::nullopt;
  return index_.front().pos.segment;
}

uint64_t partition_log::size_bytes() const {
  std::lock_guard lock(mu_);
  return index_bytes_;
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
  const int64_t now = now_ms();
  const batch_header* idempotent = nullptr;
  if (batches.size() == 1 && batches.front().header.producer_id >= 0) {
    idempotent = &batches.front().header;
    auto verdict = producers_.check(*idempotent, now);
    if (verdict.what == sequence_check::verdict::refuse) {
      lock.unlock();
      call->done(fail(verdict.error));
      return;
    }
    if (verdict.what == sequence_check::verdict::duplicate) {
      // A retry of a batch already in the log: the original's offsets, once it is durable.
      const auto& o = verdict.original;
      if (o.last_offset < high_watermark_) {
        const int64_t start = log_start_offset_;
        lock.unlock();
        call->done(produce_result{o.first_offset, start, true});
        return;
      }
      if (failed_) {
        const auto ec = failed_;
        lock.unlock();
        call->done(fail(ec));
        return;
      }
      // Kept in order of the originals' offsets (retries may come newest first), so that each is
      // answered once its own original is durable, never with a later batch's failure.
      auto at = std::upper_bound(duplicates_.begin(), duplicates_.end(), o.last_offset,
                                 [](int64_t off, const waiting_duplicate& d) { return off < d.last_offset; });
      duplicates_.insert(at, waiting_duplicate{o.last_offset, o.first_offset, std::move(call->done)});
      return;
    }
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
    auto queued =
        wal.append(stream_, wal_type_record_batch, wal::payload{owner, bytes},
                   [self, call, entry](const wal::result<wal::appended>& r) { self->on_durable(*call, entry, r); });
    if (!queued) {
      // Offsets from this batch on never reached the WAL queue: hand them out again, stop here.
      call->note_failure(from_wal_error(queued.error()));
      next_offset_ = base;
      refused = i;
      break;
    }
  }
  // Queued: from now on its sequence counts (a later batch must follow it, a retry of it is a
  // duplicate), even before it is durable.
  if (idempotent && refused == batches.size()) producers_.append(*idempotent, call->base_offset, now);
  if (refused == batches.size()) {
    // Every batch is queued. Dropping our reference under mu_ cannot be the last release, since
    // each completion takes mu_ before it releases; so `done` runs on the committing thread, after the
    // last batch's completion, in offset order with this partition's other produces.
    call->release(1);
    return;
  }
  lock.unlock();
  call->release(batches.size() - refused + 1);  // the refused batch, the ones never appended, ours
}

void partition_log::append_marker(wal::write_ahead_log& wal, int64_t producer_id, int16_t epoch, bool commit,
                                  int32_t coordinator_epoch, std::function<void(const result<int64_t>&)> done) {
  const int64_t now = now_ms();
  auto batch =
      std::make_shared<std::vector<std::byte>>(make_control_batch(producer_id, epoch, commit, coordinator_epoch, now));
  std::unique_lock lock(mu_);
  if (retired_) {
    lock.unlock();
    return done(fail(errc::unknown_topic_or_partition));
  }
  const int64_t offset = next_offset_;
  set_base_offset(*batch, offset);
  ++next_offset_;
  const index_entry entry{offset, offset, now, now, {}, 0};
  auto self = shared_from_this();
  // The marker closes the transaction now (a later batch of this producer starts a new one);
  // its first offset keeps holding the last stable offset back until the marker is durable.
  auto closed = producers_.end_txn(producer_id, epoch, commit, offset, coordinator_epoch, now);
  if (closed) closing_txns_.insert(closed->first_offset);
  auto answer = std::make_shared<std::function<void(const result<int64_t>&)>>(std::move(done));
  auto queued = wal.append(stream_, wal_type_record_batch, wal::payload{batch, std::span<const std::byte>(*batch)},
                           [self, entry, closed, answer](const wal::result<wal::appended>& r) {
                             std::unordered_map<uint64_t, wake_fn> wake;
                             std::vector<waiting_duplicate> dups;
                             int64_t start = 0;
                             {
                               std::lock_guard l(self->mu_);
                               if (closed) {
                                 self->closing_txns_.erase(self->closing_txns_.find(closed->first_offset));
                                 // The marker is not in the log: its transaction is still open here, and keeps
                                 // holding the last stable offset (read_committed must not see it as ended).
                                 if (!r) self->producers_.reopen_txn(*closed);
                               }
                               if (!r && !self->failed_) self->failed_ = from_wal_error(r.error());
                               if (r) {
                                 index_entry e = entry;
                                 e.pos = r->pos;
                                 e.size = r->size;
                                 self->add_to_index(e);
                                 self->high_watermark_ = entry.last_offset + 1;
                                 if (closed && !closed->commit) self->aborted_.push_back(*closed);
                                 if (!self->waiters_.empty()) wake = self->take_waiters();
                               }
                               dups = self->take_duplicates(!r);
                               start = self->log_start_offset_;
                             }
                             answer_duplicates(dups, r, start);
                             for (auto& [id, fn] : wake) fn();
                             (*answer)(r ? result<int64_t>(entry.base_offset) : fail(from_wal_error(r.error())));
                           });
  if (!queued) {
    // Never queued: the offset goes back, the transaction is open again.
    next_offset_ = offset;
    if (closed) {
      closing_txns_.erase(closing_txns_.find(closed->first_offset));
      producers_.reopen_txn(*closed);
    }
    lock.unlock();
    (*answer)(fail(from_wal_error(queued.error())));
  }
}

void partition_log::answer_duplicates(std::vector<waiting_duplicate>& dups, const wal::result<wal::appended>& r,
                                      int64_t log_start) {
  for (auto& d : dups) {
    if (r) d.done(produce_result{d.base_offset, log_start, true});
    else d.done(fail(from_wal_error(r.error())));
  }
}

std::vector<partition_log::waiting_duplicate> partition_log::take_duplicates(bool failed) {
  std::vector<waiting_duplicate> out;
  while (!duplicates_.empty() && (failed || duplicates_.front().last_offset < high_watermark_)) {
    out.push_back(std::move(duplicates_.front()));
    duplicates_.pop_front();
  }
  return out;
}

void partition_log::on_durable(append_call& call, index_entry entry, const wal::result<wal::appended>& r) {
  std::unordered_map<uint64_t, wake_fn> wake;
  std::vector<waiting_duplicate> dups;
  int64_t start = 0;
  {
    std::lock_guard lock(mu_);
    if (!r) {
      call.note_failure(from_wal_error(r.error()));
      if (!failed_) failed_ = from_wal_error(r.error());
    } else {
      entry.pos = r->pos;
      entry.size = r->size;
      add_to_index(entry);
      high_watermark_ = entry.last_offset + 1;
      if (!waiters_.empty()) wake = take_waiters();
    }
    // After a failure nothing later becomes durable: waiting retries fail too.
    dups = take_duplicates(!r);
    start = log_start_offset_;
  }
  answer_duplicates(dups, r, start);
  for (auto& [id, fn] : wake) fn();
  call.release(1);
}

int64_t partition_log::last_stable_offset() const {
  int64_t lso = high_watermark_;
  if (auto open = producers_.first_open_txn()) lso = std::min(lso, *open);
  if (!closing_txns_.empty()) lso = std::min(lso, *closing_txns_.begin());
  return lso;
}

result<fetch_result> partition_log::read(const wal::write_ahead_log& wal, int64_t offset, size_t max_bytes,
                                         bool read_committed) const {
  fetch_result out;
  std::vector<index_entry> picked;
  {
    std::lock_guard lock(mu_);
    out.high_watermark = high_watermark_;
    out.last_stable_offset = last_stable_offset();
    out.log_start_offset = log_start_offset_;
    if (offset < log_start_offset_ || offset > high_watermark_) return fail(errc::offset_out_of_range);
    // read_committed stops at the last stable offset: an open transaction's batches wait there.
    const int64_t upper = read_committed ? out.last_stable_offset : high_watermark_;
    auto it = std::partition_point(index_.begin(), index_.end(),
                                   [offset](const index_entry& e) { return e.last_offset < offset; });
    size_t bytes = 0;
    for (; it != index_.end() && it->last_offset < upper; ++it) {
      if (!picked.empty() && bytes + it->size > max_bytes) break;  // at least one whole batch, as Kafka does
      bytes += it->size;
      picked.push_back(*it);
    }
    if (read_committed && !picked.empty()) {
      // Kafka's rule: every aborted transaction that ends at or after the fetch offset and began
      // before the end of what is returned.
      const int64_t end = picked.back().last_offset;
      auto a = std::partition_point(aborted_.begin(), aborted_.end(),
                                    [offset](const closed_txn& t) { return t.last_offset < offset; });
      for (; a != aborted_.end(); ++a)
        if (a->first_offset <= end) out.aborted.push_back(*a);
    }
  }
  out.batches.reserve(picked.size());
  for (auto e : picked) {
    std::vector<std::byte> buf(e.size);
    auto r = wal.read_payload(e.pos, buf);
    if (!r) {
      // Retention moved the log start past it and removed its segment while we read, or copied
      // it forward (relocate) and removed the segment it was in: then read the copy.
      std::optional<index_entry> moved;
      {
        std::lock_guard lock(mu_);
        if (e.last_offset < log_start_offset_) return fail(errc::offset_out_of_range);
        auto it = std::lower_bound(index_.begin(), index_.end(), e.base_offset,
                                   [](const index_entry& x, int64_t off) { return x.base_offset < off; });
        if (it != index_.end() && it->base_offset == e.base_offset && !(it->pos == e.pos)) moved = *it;
      }
      if (moved) {
        e = *moved;
        buf.resize(e.size);
        r = wal.read_payload(e.pos, buf);
      }
    }
    if (!r) {
      log().error("stream {}: reading offsets [{}, {}] at segment {} byte {} failed: {}", stream_, e.base_offset,
                  e.last_offset, e.pos.segment, e.pos.offset, r.error().message());
      return fail(errc::storage_error);
    }
    out.bytes += buf.size();
    out.batches.push_back(std::move(buf));
  }
  return out;
}

offset_at_time partition_log::offset_for_timestamp(int64_t timestamp, bool read_committed) const {
  constexpr int64_t latest = -1;
  constexpr int64_t earliest = -2;
  std::lock_guard lock(mu_);
  if (timestamp == earliest) return {log_start_offset_, -1};
  if (timestamp == latest) return {read_committed ? last_stable_offset() : high_watermark_, -1};
  if (timestamp < 0) return {};
  auto it = std::partition_point(index_.begin(), index_.end(),
                                 [timestamp](const index_entry& e) { return e.max_timestamp_so_far < timestamp; });
  if (it == index_.end()) return {};
  // Kafka's fetchOffsetForTimestamp: read_committed finds nothing at or above the last stable
  // offset (the index holds only durable batches, so read_uncommitted is below the high watermark).
  if (read_committed && it->base_offset >= last_stable_offset()) return {};
  return {it->base_offset, it->max_timestamp};
}

partition_state partition_log::state() const {
  std::lock_guard lock(mu_);
  return {log_start_offset_,           high_watermark_, last_stable_offset(), next_offset_, producers_.size(),
          producers_.open_txn_count(), index_bytes_};
}

std::vector<producer_view> partition_log::producers() const {
  std::lock_guard lock(mu_);
  return producers_.describe();
}

void partition_log::expire_producers() {
  std::lock_guard lock(mu_);
  producers_.expire(now_ms());
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
