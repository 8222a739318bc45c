#include "engine/producer_state.h"

#include <limits>

#include "engine/errc.h"

namespace engine {

int32_t add_sequence(int32_t seq, int32_t delta) {
  constexpr int32_t max = std::numeric_limits<int32_t>::max();
  if (seq > max - delta) return delta - (max - seq) - 1;
  return seq + delta;
}

sequence_check producer_state::check(const batch_header& b, int64_t now_ms) const {
  sequence_check out;
  auto refuse = [&](errc e) {
    out.what = sequence_check::verdict::refuse;
    out.error = e;
    return out;
  };
  auto it = producers_.find(b.producer_id);
  if (it == producers_.end() || expired(it->second, now_ms)) return out;  // unknown: any sequence starts it
  const producer_entry& e = it->second;
  const int32_t first = b.base_sequence;
  const int32_t last = add_sequence(first, b.last_offset_delta);
  if (b.producer_epoch < e.epoch) return refuse(errc::invalid_producer_epoch);
  // Kafka's ProducerAppendInfo: inside an open transaction every batch must be transactional,
  // or an abort would hide a batch that was never part of it from read_committed consumers.
  const bool outside_txn = e.txn_first_offset && !b.transactional();
  if (b.producer_epoch > e.epoch) {
    if (first != 0) return refuse(errc::out_of_order_sequence);
    return outside_txn ? refuse(errc::invalid_txn_state) : out;
  }
  for (const auto& old : e.batches)
    if (old.first_seq == first && old.last_seq == last) {
      out.what = sequence_check::verdict::duplicate;
      out.original = old;
      return out;
    }
  // No batch since the epoch began (a marker reset it): the producer starts again at 0.
  if (e.batches.empty()) {
    if (first != 0) return refuse(errc::out_of_order_sequence);
    return outside_txn ? refuse(errc::invalid_txn_state) : out;
  }
  if (first != add_sequence(e.batches.back().last_seq, 1)) return refuse(errc::out_of_order_sequence);
  if (outside_txn) return refuse(errc::invalid_txn_state);
  return out;
}

void producer_state::append(const batch_header& b, int64_t first_offset, int64_t now_ms) {
  auto [it, added] = producers_.try_emplace(b.producer_id);
  producer_entry& e = it->second;
  if (!added && expired(e, now_ms)) e = producer_entry{};
  if (b.producer_epoch != e.epoch) {
    e.epoch = b.producer_epoch;
    e.batches.clear();
  }
  e.batches.push_back({b.base_sequence, add_sequence(b.base_sequence, b.last_offset_delta), first_offset,
                       first_offset + b.last_offset_delta});
  while (e.batches.size() > producer_batches_kept) e.batches.pop_front();
  e.last_write_ms = now_ms;
  e.last_timestamp = b.max_timestamp;
  if (b.transactional() && !e.txn_first_offset) {
    e.txn_first_offset = first_offset;
    open_txns_.insert(first_offset);
  }
}

std::optional<closed_txn> producer_state::end_txn(int64_t producer_id, int16_t epoch, bool commit, int64_t offset,
                                                  int32_t coordinator_epoch, int64_t now_ms) {
  producer_entry& e = producers_[producer_id];
  if (epoch > e.epoch) {
    e.epoch = epoch;
    e.batches.clear();
  }
  e.last_write_ms = now_ms;
  e.coordinator_epoch = coordinator_epoch;
  std::optional<closed_txn> closed;
  if (e.txn_first_offset) {
    closed = closed_txn{producer_id, *e.txn_first_offset, offset, commit};
    open_txns_.erase(open_txns_.find(*e.txn_first_offset));
    e.txn_first_offset.reset();
  }
  return closed;
}

void producer_state::reopen_txn(const closed_txn& t) {
  producer_entry& e = producers_[t.producer_id];
  if (e.txn_first_offset) return;
  e.txn_first_offset = t.first_offset;
  open_txns_.insert(t.first_offset);
}

std::optional<int64_t> producer_state::first_open_txn() const {
  if (open_txns_.empty()) return std::nullopt;
  return *open_txns_.begin();
}

void producer_state::expire(int64_t now_ms) {
  std::erase_if(producers_, [&](const auto& kv) { return expired(kv.second, now_ms); });
}

std::vector<producer_view> producer_state::describe() const {
  std::vector<producer_view> out;
  out.reserve(producers_.size());
  for (const auto& [id, e] : producers_) out.push_back({id, e});
  return out;
}

}  // namespace engine
