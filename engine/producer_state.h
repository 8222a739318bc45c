#pragma once
// One partition's idempotent and transactional producers: for each producer id its epoch, the
// last five batches it wrote (sequence range and offsets) and the transaction it has open here.
// Kafka's ProducerStateManager, reduced to what a single-replica broker needs.
//
// The rules (checked in log order, where offsets are assigned, so two in-flight batches of one
// producer can never pass out of order):
// - no state for the producer id: any sequence starts it;
// - a lower epoch: invalid_producer_epoch (a fenced or zombie producer);
// - a higher epoch: it must start at sequence 0 (clients bump their own epoch), state resets;
// - the same epoch: a batch equal to one of the last five (first and last sequence) is a
//   duplicate, answered with its original offsets and not written again; otherwise the batch
//   must start at last sequence + 1, wrapping from INT32_MAX to 0 (out_of_order_sequence);
// - while the producer has a transaction open here, a non-transactional batch is refused
//   (invalid_txn_state), as Kafka does.
// State expires `ttl` after the producer's last write by broker time, never by record
// timestamps; a producer with an open transaction does not expire.
//
// Not thread-safe: owned by partition_log, guarded by its mutex.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "engine/record_batch.h"

namespace engine {

inline constexpr int64_t no_producer_id = -1;
inline constexpr int16_t no_producer_epoch = -1;
inline constexpr int32_t no_sequence = -1;
inline constexpr size_t producer_batches_kept = 5;

// The sequence `delta` steps after `seq`, wrapping from INT32_MAX to 0 as Kafka does.
int32_t add_sequence(int32_t seq, int32_t delta);

struct producer_batch {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
};

struct producer_entry {
  int16_t epoch = no_producer_epoch;
  std::deque<producer_batch> batches;       // the last few, oldest first
  int64_t last_write_ms = 0;                // broker wall time: what expiry counts from
  int64_t last_timestamp = -1;              // the last batch's max timestamp (DescribeProducers)
  std::optional<int64_t> txn_first_offset;  // its open transaction here, if any
  int32_t coordinator_epoch = -1;
};

struct sequence_check {
  enum class verdict { append, duplicate, refuse } what = verdict::append;
  std::error_code error;    // refuse
  producer_batch original;  // duplicate
};

// A transaction a marker closed. After an abort, read_committed consumers skip this producer's
// batches in [first_offset, last_offset] (the marker is last_offset).
struct closed_txn {
  int64_t producer_id = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  bool commit = false;
};

struct producer_view {
  int64_t producer_id = 0;
  producer_entry entry;
};

class producer_state {
 public:
  explicit producer_state(int64_t ttl_ms) : ttl_ms_(ttl_ms) {}

  // What to do with a client batch. REQUIRES: b.producer_id >= 0.
  sequence_check check(const batch_header& b, int64_t now_ms) const;
  // Records a batch that was appended at [first_offset, first_offset + last_offset_delta].
  void append(const batch_header& b, int64_t first_offset, int64_t now_ms);
  // A transaction marker at `offset` (written by the transaction coordinator, or replayed):
  // closes the producer's open transaction here. The epoch of a marker may be higher than the
  // producer's (a fenced producer): then the producer's batches are forgotten and its old epoch
  // refused from now on. Returns the transaction it closed, if one was open.
  std::optional<closed_txn> end_txn(int64_t producer_id, int16_t epoch, bool commit, int64_t offset,
                                    int32_t coordinator_epoch, int64_t now_ms);

  // A marker that could not be written after all: its transaction is open again.
  void reopen_txn(const closed_txn& t);

  // The first offset of the earliest open transaction, if any.
  std::optional<int64_t> first_open_txn() const;
  size_t open_txn_count() const { return open_txns_.size(); }
  // Forgets producers idle past the ttl (none with an open transaction).
  void expire(int64_t now_ms);

  size_t size() const { return producers_.size(); }
  std::vector<producer_view> describe() const;

 private:
  bool expired(const producer_entry& e, int64_t now_ms) const {
    return !e.txn_first_offset && now_ms - e.last_write_ms > ttl_ms_;
  }

  int64_t ttl_ms_;
  std::unordered_map<int64_t, producer_entry> producers_;
  std::multiset<int64_t> open_txns_;  // first offsets of the open transactions
};

}  // namespace engine
