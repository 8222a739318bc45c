// producer_state: Kafka's per-partition sequence and epoch rules for idempotent and
// transactional producers, the last five batches kept for duplicates, expiry by broker time,
// and the transactions open in the partition.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "engine/errc.h"
#include "engine/producer_state.h"
#include "engine/record_batch.h"

using namespace engine;

namespace {

constexpr int32_t max_seq = std::numeric_limits<int32_t>::max();
constexpr int64_t ttl = 60'000;

// The header of a batch of `records` records starting at `seq`.
batch_header header(int64_t pid, int16_t epoch, int32_t seq, int32_t records = 1, bool transactional = false) {
  batch_header h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.last_offset_delta = records - 1;
  h.record_count = records;
  h.max_timestamp = 1000 + seq;
  if (transactional) h.attributes = batch_layout::transactional_flag;
  return h;
}

using verdict = sequence_check::verdict;

bool appends(const producer_state& s, const batch_header& h, int64_t now = 0) {
  return s.check(h, now).what == verdict::append;
}
std::error_code refusal(const producer_state& s, const batch_header& h, int64_t now = 0) {
  auto c = s.check(h, now);
  return c.what == verdict::refuse ? c.error : std::error_code();
}

// Checks and, when accepted, appends at `offset` (as partition_log does); the verdict.
verdict write(producer_state& s, const batch_header& h, int64_t offset, int64_t now = 0) {
  auto c = s.check(h, now);
  if (c.what == verdict::append) s.append(h, offset, now);
  return c.what;
}

}  // namespace

TEST_CASE("add_sequence wraps from INT32_MAX to 0", "[engine][producer_state]") {
  CHECK(add_sequence(0, 0) == 0);
  CHECK(add_sequence(0, 1) == 1);
  CHECK(add_sequence(41, 9) == 50);
  CHECK(add_sequence(max_seq - 1, 1) == max_seq);
  CHECK(add_sequence(max_seq, 0) == max_seq);
  CHECK(add_sequence(max_seq, 1) == 0);
  CHECK(add_sequence(max_seq, 2) == 1);
  CHECK(add_sequence(max_seq - 2, 5) == 2);  // max-1, max, 0, 1, 2
  CHECK(add_sequence(max_seq - 4, 4) == max_seq);
  CHECK(add_sequence(1, max_seq) == 0);  // a whole turn less one
}

TEST_CASE("an unknown producer may start at any sequence", "[engine][producer_state]") {
  producer_state s(ttl);
  CHECK(appends(s, header(1, 0, 0)));
  CHECK(appends(s, header(1, 0, 17)));
  CHECK(appends(s, header(1, 5, max_seq)));
  CHECK(s.size() == 0);  // check() alone records nothing

  CHECK(write(s, header(1, 0, 17, 3), 100) == verdict::append);
  CHECK(s.size() == 1);
  // Another producer is unaffected by producer 1.
  CHECK(appends(s, header(2, 0, 1234)));
}

TEST_CASE("the next batch must start at last sequence + 1", "[engine][producer_state]") {
  producer_state s(ttl);
  REQUIRE(write(s, header(7, 0, 0, 3), 0) == verdict::append);  // seq 0-2, offsets 0-2
  CHECK(appends(s, header(7, 0, 3)));
  CHECK(appends(s, header(7, 0, 3, 10)));  // any length

  SECTION("a gap") {
    CHECK(refusal(s, header(7, 0, 4)) == errc::out_of_order_sequence);
    CHECK(refusal(s, header(7, 0, 1000)) == errc::out_of_order_sequence);
  }
  SECTION("a step back that is no duplicate") {
    CHECK(refusal(s, header(7, 0, 2)) == errc::out_of_order_sequence);
    CHECK(refusal(s, header(7, 0, 1, 2)) == errc::out_of_order_sequence);  // overlaps 0-2, is not it
    CHECK(refusal(s, header(7, 0, 0, 2)) == errc::out_of_order_sequence);  // same first, other last
  }
  SECTION("a refused batch leaves the state as it was") {
    REQUIRE(refusal(s, header(7, 0, 9)) == errc::out_of_order_sequence);
    CHECK(write(s, header(7, 0, 3, 2), 3) == verdict::append);
    CHECK(appends(s, header(7, 0, 5)));
    CHECK(refusal(s, header(7, 0, 3)) == errc::out_of_order_sequence);
  }
}

TEST_CASE("sequences wrap from INT32_MAX to 0", "[engine][producer_state]") {
  producer_state s(ttl);
  SECTION("the next batch after one that ends at INT32_MAX starts at 0") {
    REQUIRE(write(s, header(1, 0, max_seq - 2, 3), 0) == verdict::append);  // ends at max
    CHECK(refusal(s, header(1, 0, max_seq)) == errc::out_of_order_sequence);
    CHECK(refusal(s, header(1, 0, 1)) == errc::out_of_order_sequence);
    REQUIRE(write(s, header(1, 0, 0, 2), 3) == verdict::append);
    CHECK(appends(s, header(1, 0, 2)));
    // The batch before the wrap is still a known duplicate.
    auto d = s.check(header(1, 0, max_seq - 2, 3), 0);
    REQUIRE(d.what == verdict::duplicate);
    CHECK(d.original.first_offset == 0);
    CHECK(d.original.last_offset == 2);
  }
  SECTION("a batch whose own range wraps") {
    REQUIRE(write(s, header(1, 0, max_seq - 1, 1), 0) == verdict::append);  // ends at max-1
    // max, 0, 1: its last sequence is 1.
    REQUIRE(write(s, header(1, 0, max_seq, 3), 1) == verdict::append);
    CHECK(appends(s, header(1, 0, 2)));
    CHECK(refusal(s, header(1, 0, 0)) == errc::out_of_order_sequence);
    auto d = s.check(header(1, 0, max_seq, 3), 0);
    REQUIRE(d.what == verdict::duplicate);
    CHECK(d.original.first_seq == max_seq);
    CHECK(d.original.last_seq == 1);
    CHECK(d.original.first_offset == 1);
    CHECK(d.original.last_offset == 3);
    auto views = s.describe();
    REQUIRE(views.size() == 1);
    CHECK(views[0].entry.batches.back().last_seq == 1);
  }
}

TEST_CASE("a duplicate of each of the last five batches is answered with its offsets", "[engine][producer_state]") {
  producer_state s(ttl);
  // Six batches of two records: sequences 0-1, 2-3, ..., 10-11 at offsets 100+10i.
  for (int i = 0; i < 6; ++i) REQUIRE(write(s, header(3, 2, 2 * i, 2), 100 + 10 * i) == verdict::append);
  for (int i = 1; i < 6; ++i) {
    INFO("batch " << i);
    auto c = s.check(header(3, 2, 2 * i, 2), 0);
    REQUIRE(c.what == verdict::duplicate);
    CHECK(c.original.first_seq == 2 * i);
    CHECK(c.original.last_seq == 2 * i + 1);
    CHECK(c.original.first_offset == 100 + 10 * i);
    CHECK(c.original.last_offset == 100 + 10 * i + 1);
  }
  // The sixth oldest is forgotten: a step back, no longer a duplicate.
  CHECK(refusal(s, header(3, 2, 0, 2)) == errc::out_of_order_sequence);
  CHECK(s.describe()[0].entry.batches.size() == producer_batches_kept);
  // A duplicate must match the original's range exactly.
  CHECK(refusal(s, header(3, 2, 10, 1)) == errc::out_of_order_sequence);
  // A duplicate at another epoch is not one.
  CHECK(refusal(s, header(3, 1, 10, 2)) == errc::invalid_producer_epoch);
  CHECK(refusal(s, header(3, 3, 10, 2)) == errc::out_of_order_sequence);
}

TEST_CASE("producer epochs: lower is refused, higher starts again at 0", "[engine][producer_state]") {
  producer_state s(ttl);
  REQUIRE(write(s, header(9, 4, 0, 5), 0) == verdict::append);
  CHECK(refusal(s, header(9, 3, 5)) == errc::invalid_producer_epoch);
  CHECK(refusal(s, header(9, 3, 0)) == errc::invalid_producer_epoch);
  CHECK(refusal(s, header(9, 0, 0, 5)) == errc::invalid_producer_epoch);  // even the old batch's retry

  CHECK(refusal(s, header(9, 5, 5)) == errc::out_of_order_sequence);
  CHECK(refusal(s, header(9, 5, 1)) == errc::out_of_order_sequence);
  REQUIRE(write(s, header(9, 5, 0, 2), 5) == verdict::append);
  auto v = s.describe();
  REQUIRE(v.size() == 1);
  CHECK(v[0].entry.epoch == 5);
  REQUIRE(v[0].entry.batches.size() == 1);  // the old epoch's batches are gone
  CHECK(v[0].entry.batches[0].first_offset == 5);
  CHECK(appends(s, header(9, 5, 2)));
  CHECK(refusal(s, header(9, 4, 5)) == errc::invalid_producer_epoch);
  // The old epoch's batch is no duplicate at the new epoch.
  CHECK(refusal(s, header(9, 5, 0, 5)) == errc::out_of_order_sequence);
}

TEST_CASE("producers expire by broker time after the ttl, never with a transaction open", "[engine][producer_state]") {
  producer_state s(ttl);
  const int64_t t0 = 1'000'000;
  REQUIRE(write(s, header(1, 0, 0, 3), 0, t0) == verdict::append);
  auto txn = header(2, 0, 0, 1, true);
  REQUIRE(write(s, txn, 3, t0) == verdict::append);
  REQUIRE(s.size() == 2);

  // Before the ttl: the rules hold.
  CHECK(refusal(s, header(1, 0, 7), t0 + ttl) == errc::out_of_order_sequence);
  s.expire(t0 + ttl);
  CHECK(s.size() == 2);

  // After it: an idle producer is unknown again, even to check() before expire() ran.
  CHECK(appends(s, header(1, 0, 7), t0 + ttl + 1));
  CHECK(s.check(header(1, 0, 0, 3), t0 + ttl + 1).what == verdict::append);  // no longer a duplicate
  // Record timestamps do not count: max_timestamp in the headers is tiny, yet nothing expired at t0.
  s.expire(t0 + ttl + 1);
  CHECK(s.size() == 1);  // producer 2 stays: its transaction is open
  REQUIRE(s.first_open_txn() == 3);
  CHECK(refusal(s, header(2, 0, 5, 1, true), t0 + 10 * ttl) == errc::out_of_order_sequence);
  s.expire(t0 + 10 * ttl);
  CHECK(s.size() == 1);

  // Once its marker is written its idle time counts from the marker.
  auto closed = s.end_txn(2, 0, true, 4, 0, t0 + 10 * ttl);
  REQUIRE(closed);
  s.expire(t0 + 11 * ttl);
  CHECK(s.size() == 1);
  s.expire(t0 + 11 * ttl + 1);
  CHECK(s.size() == 0);

  SECTION("a write restarts the idle time") {
    producer_state r(ttl);
    REQUIRE(write(r, header(5, 0, 0), 0, t0) == verdict::append);
    REQUIRE(write(r, header(5, 0, 1), 1, t0 + ttl) == verdict::append);
    r.expire(t0 + ttl + 1);
    CHECK(r.size() == 1);
    CHECK(refusal(r, header(5, 0, 5), t0 + 2 * ttl) == errc::out_of_order_sequence);
  }
  SECTION("an expired producer starts afresh at whatever it sends") {
    producer_state r(ttl);
    REQUIRE(write(r, header(5, 3, 0, 2), 0, t0) == verdict::append);
    // Its old epoch and sequence mean nothing after the ttl, even before expire() ran.
    REQUIRE(write(r, header(5, 1, 40), 2, t0 + ttl + 1) == verdict::append);
    auto v = r.describe();
    REQUIRE(v.size() == 1);
    CHECK(v[0].entry.epoch == 1);
    REQUIRE(v[0].entry.batches.size() == 1);
    CHECK(v[0].entry.batches[0].first_seq == 40);
  }
}

TEST_CASE("transactions: first offsets, first_open_txn and markers", "[engine][producer_state]") {
  producer_state s(ttl);
  CHECK_FALSE(s.first_open_txn());
  CHECK(s.open_txn_count() == 0);

  REQUIRE(write(s, header(1, 0, 0, 2), 0) == verdict::append);  // idempotent, not transactional
  CHECK_FALSE(s.first_open_txn());
  REQUIRE(write(s, header(2, 0, 0, 2, true), 2) == verdict::append);
  REQUIRE(write(s, header(3, 0, 0, 1, true), 4) == verdict::append);
  REQUIRE(write(s, header(2, 0, 2, 3, true), 5) == verdict::append);  // same txn: first stays 2
  CHECK(s.first_open_txn() == 2);
  CHECK(s.open_txn_count() == 2);
  {
    auto v = s.describe();
    for (const auto& p : v) {
      if (p.producer_id == 2) CHECK(p.entry.txn_first_offset == 2);
      if (p.producer_id == 3) CHECK(p.entry.txn_first_offset == 4);
      if (p.producer_id == 1) CHECK_FALSE(p.entry.txn_first_offset);
    }
  }

  auto c2 = s.end_txn(2, 0, false, 8, 11, 0);
  REQUIRE(c2);
  CHECK(c2->producer_id == 2);
  CHECK(c2->first_offset == 2);
  CHECK(c2->last_offset == 8);
  CHECK_FALSE(c2->commit);
  CHECK(s.first_open_txn() == 4);
  CHECK(s.open_txn_count() == 1);
  // A marker for a producer with nothing open here closes nothing.
  CHECK_FALSE(s.end_txn(2, 0, true, 9, 11, 0));
  CHECK_FALSE(s.end_txn(42, 0, true, 10, 11, 0));
  // The producer keeps its sequence across a marker at the same epoch.
  CHECK(appends(s, header(2, 0, 5, 1, true)));
  CHECK(refusal(s, header(2, 0, 0, 1, true)) == errc::out_of_order_sequence);

  // A new transaction of producer 2 starts at its first batch's offset.
  REQUIRE(write(s, header(2, 0, 5, 1, true), 11) == verdict::append);
  CHECK(s.first_open_txn() == 4);
  auto c3 = s.end_txn(3, 0, true, 12, 11, 0);
  REQUIRE(c3);
  CHECK(c3->commit);
  CHECK(s.first_open_txn() == 11);

  SECTION("reopen_txn undoes a marker that was never written") {
    auto c = s.end_txn(2, 0, true, 13, 11, 0);
    REQUIRE(c);
    CHECK_FALSE(s.first_open_txn());
    s.reopen_txn(*c);
    CHECK(s.first_open_txn() == 11);
    CHECK(s.open_txn_count() == 1);
    s.reopen_txn(*c);  // already open: no second entry
    CHECK(s.open_txn_count() == 1);
  }
}

TEST_CASE("a marker at a higher epoch fences the producer's old epoch", "[engine][producer_state]") {
  producer_state s(ttl);
  REQUIRE(write(s, header(4, 1, 0, 3, true), 10) == verdict::append);
  // The coordinator fenced the producer (epoch 1 -> 2) and aborts with the new epoch.
  auto closed = s.end_txn(4, 2, false, 13, 0, 0);
  REQUIRE(closed);
  CHECK(closed->first_offset == 10);
  CHECK_FALSE(s.first_open_txn());
  // The zombie at epoch 1 is refused, retries included.
  CHECK(refusal(s, header(4, 1, 3, 1, true)) == errc::invalid_producer_epoch);
  CHECK(refusal(s, header(4, 1, 0, 3, true)) == errc::invalid_producer_epoch);
  // Epoch 2 has written nothing yet: it starts at 0.
  CHECK(refusal(s, header(4, 2, 3, 1, true)) == errc::out_of_order_sequence);
  CHECK(appends(s, header(4, 2, 0, 1, true)));
  // A higher epoch still must start at 0.
  CHECK(appends(s, header(4, 3, 0, 1, true)));
  CHECK(refusal(s, header(4, 3, 1, 1, true)) == errc::out_of_order_sequence);

  SECTION("a fencing marker for a producer unknown here") {
    REQUIRE_FALSE(s.end_txn(77, 5, false, 20, 0, 0));
    CHECK(refusal(s, header(77, 4, 0)) == errc::invalid_producer_epoch);
    CHECK(appends(s, header(77, 5, 0)));
    CHECK(refusal(s, header(77, 5, 3)) == errc::out_of_order_sequence);
  }
}

TEST_CASE("a non-transactional batch while the producer's transaction is open is refused", "[engine][producer_state]") {
  // Kafka's ProducerAppendInfo: "Expected transactional write from producer" (INVALID_TXN_STATE);
  // otherwise an abort would hide the non-transactional batch from read_committed consumers.
  producer_state s(ttl);
  REQUIRE(write(s, header(4, 0, 0, 1, true), 10) == verdict::append);
  CHECK(refusal(s, header(4, 0, 1, 1, false)) == errc::invalid_txn_state);
  CHECK(appends(s, header(4, 0, 1, 1, true)));
  // A retry of the transactional batch is still a duplicate.
  CHECK(s.check(header(4, 0, 0, 1, true), 0).what == verdict::duplicate);
}
