// Idempotent and transactional produce through log_manager on the in-memory file system:
// duplicates, sequence order of in-flight batches, markers, the last stable offset,
// read_committed fetch and ListOffsets, and replay of all of it.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/broker.h"
#include "engine/control_batch.h"
#include "engine/errc.h"
#include "tests/engine/test_util.h"
#include "tests/support/mem_file_system.h"

using namespace engine;
using namespace engine::test;

namespace {

std::unique_ptr<log_manager> open_mem(std::shared_ptr<wal::mem_file_system> fs, config c = mem_config()) {
  auto m = log_manager::open(c, std::move(fs));
  REQUIRE(m);
  return std::move(*m);
}

// Holds every WAL record back (no cut, so no sync) until the test sets another policy.
wal::flush_policy hold_policy() {
  wal::flush_policy p;
  p.min_batches = 1'000'000;
  p.linger = std::chrono::hours(1);
  p.buffer_bytes = 1ull << 40;
  return p;
}

// A batch of an idempotent (or, with `txn`, transactional) producer.
std::vector<std::byte> pbatch(const std::vector<std::string>& values, int64_t pid, int16_t epoch, int32_t seq,
                              bool txn = false, int64_t ts = 1'700'000'000'000) {
  batch_options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  o.base_timestamp = ts;
  if (txn) o.attributes = batch_layout::transactional_flag;
  return make_batch(values, o);
}

std::vector<std::byte> plain(const std::vector<std::string>& values, int64_t ts = 1'700'000'000'000) {
  batch_options o;
  o.base_timestamp = ts;
  return make_batch(values, o);
}

// A produce whose answer the test collects later.
struct in_flight {
  std::shared_ptr<std::atomic<bool>> answered = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::promise<result<produce_result>>> p = std::make_shared<std::promise<result<produce_result>>>();
  std::shared_future<result<produce_result>> f = p->get_future().share();
  // The high watermark when the answer ran (read inside the callback).
  std::shared_ptr<std::atomic<int64_t>> hw_at_answer = std::make_shared<std::atomic<int64_t>>(-1);
  result<produce_result> get() const { return f.get(); }
};

in_flight produce_async(log_manager& m, const std::string& topic, int32_t partition, std::vector<std::byte> bytes) {
  in_flight out;
  auto buf = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  m.produce(topic, partition, buf, *buf, [&m, topic, partition, out](const result<produce_result>& r) {
    if (auto s = m.state_of(topic, partition)) out.hw_at_answer->store(s->high_watermark);
    out.answered->store(true);
    out.p->set_value(r);
  });
  return out;
}

struct marker_in_flight {
  std::shared_ptr<std::atomic<bool>> answered = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::promise<result<int64_t>>> p = std::make_shared<std::promise<result<int64_t>>>();
  std::shared_future<result<int64_t>> f = p->get_future().share();
  result<int64_t> get() const { return f.get(); }
};

marker_in_flight marker_async(log_manager& m, const std::string& topic, int32_t partition, int64_t pid, int16_t epoch,
                              bool commit) {
  marker_in_flight out;
  m.write_marker(topic, partition, pid, epoch, commit, 3, [&m, topic, partition, out](const result<int64_t>& r) {
    // Callbacks run without engine locks: calling back into the engine must not deadlock.
    (void)m.state_of(topic, partition);
    out.answered->store(true);
    out.p->set_value(r);
  });
  return out;
}

result<int64_t> marker_sync(log_manager& m, const std::string& topic, int32_t partition, int64_t pid, int16_t epoch,
                            bool commit) {
  return marker_async(m, topic, partition, pid, epoch, commit).get();
}

int64_t lso(const log_manager& m, const std::string& topic = "t", int32_t partition = 0) {
  auto s = m.state_of(topic, partition);
  REQUIRE(s);
  return s->last_stable_offset;
}
int64_t hw(const log_manager& m, const std::string& topic = "t", int32_t partition = 0) {
  auto s = m.state_of(topic, partition);
  REQUIRE(s);
  return s->high_watermark;
}

// The base offsets of the batches a fetch returned.
std::vector<int64_t> bases(const fetch_result& f) {
  std::vector<int64_t> out;
  for (const auto& b : f.batches) out.push_back(read_header(b).base_offset);
  return out;
}

std::vector<std::pair<int64_t, int64_t>> aborted(const fetch_result& f) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& a : f.aborted) out.emplace_back(a.producer_id, a.first_offset);
  return out;
}

using offsets = std::vector<int64_t>;
using pid_first = std::vector<std::pair<int64_t, int64_t>>;

}  // namespace

// --- control batches ---

TEST_CASE("make_control_batch builds a valid marker that control_batch_commit reads back", "[engine][txn]") {
  for (bool commit : {false, true}) {
    auto b = make_control_batch(1234, 7, commit, 42, 1'700'000'000'123);
    auto v = validate_batches(b);
    INFO((v ? std::string() : v.error().message()));
    REQUIRE(v);
    REQUIRE(v->size() == 1);
    const auto& h = v->front().header;
    CHECK(h.control());
    CHECK(h.transactional());
    CHECK_FALSE(h.compressed());
    CHECK(h.producer_id == 1234);
    CHECK(h.producer_epoch == 7);
    CHECK(h.base_sequence == -1);
    CHECK(h.record_count == 1);
    CHECK(h.last_offset_delta == 0);
    CHECK(h.base_timestamp == 1'700'000'000'123);
    CHECK(h.max_timestamp == 1'700'000'000'123);
    CHECK(control_batch_commit(b) == commit);

    // Kafka's EndTransactionMarker: key version 0 | type, value version 0 | coordinator epoch.
    auto rec = decode_all(b);
    REQUIRE(rec.size() == 1);
    REQUIRE(rec[0].key);
    CHECK(rec[0].key->size() == 4);
    CHECK(static_cast<unsigned char>((*rec[0].key)[3]) == (commit ? 1 : 0));
    CHECK(rec[0].value.size() == 6);
    CHECK(static_cast<unsigned char>(rec[0].value[5]) == 42);

    // The base offset is outside the CRC: the broker can place it anywhere.
    set_base_offset(b, 99);
    CHECK(validate_batches(b));
    CHECK(control_batch_commit(b) == commit);
  }
  // Not markers.
  CHECK_FALSE(control_batch_commit(plain({"x"})));
  auto b = make_control_batch(1, 0, true, 0, 0);
  CHECK_FALSE(control_batch_commit(std::span<const std::byte>(b).first(batch_layout::header_size)));
  CHECK_FALSE(control_batch_commit(std::span<const std::byte>(b).first(batch_layout::header_size + 4)));
  auto bad_type = b;
  // length, attributes, timestamp and offset deltas, key length: 1 byte each; key version 2 bytes.
  bad_type[batch_layout::header_size + 5 + 2] = std::byte{5};  // the type's high byte
  CHECK_FALSE(control_batch_commit(bad_type));
}

TEST_CASE("clients may not send control batches or malformed idempotent batches", "[engine][txn]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  CHECK(produce_sync(*m, "t", 0, make_control_batch(5, 0, true, 0, 0)).r.error() == errc::invalid_record);
  batch_options ctl;
  ctl.attributes = batch_layout::control_flag;
  CHECK(produce_sync(*m, "t", 0, make_batch({"x"}, ctl)).r.error() == errc::invalid_record);
  batch_options txn_no_pid;
  txn_no_pid.attributes = batch_layout::transactional_flag;
  CHECK(produce_sync(*m, "t", 0, make_batch({"x"}, txn_no_pid)).r.error() == errc::invalid_record);
  batch_options no_seq;
  no_seq.producer_id = 5;
  no_seq.producer_epoch = 0;
  CHECK(produce_sync(*m, "t", 0, make_batch({"x"}, no_seq)).r.error() == errc::invalid_record);
  std::vector<std::byte> two;
  append_to(two, pbatch({"a"}, 5, 0, 0));
  append_to(two, pbatch({"b"}, 5, 0, 1));
  CHECK(produce_sync(*m, "t", 0, two).r.error() == errc::invalid_record);
  auto s = m->state_of("t", 0);
  CHECK(s->next_offset == 0);
  CHECK(s->producers == 0);
  CHECK(m->wal().next_lsn() == 0);
}

// --- idempotence ---

TEST_CASE("a retried idempotent batch gets its original offset and is not appended again", "[engine][txn]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  const auto a = pbatch({"a1", "a2"}, 10, 0, 0);
  auto first = produce_sync(*m, "t", 0, a);
  REQUIRE(first.r);
  CHECK(first.r->base_offset == 0);
  REQUIRE(produce_sync(*m, "t", 0, plain({"other"})).r);
  const auto b = pbatch({"b1"}, 10, 0, 2);
  REQUIRE(produce_sync(*m, "t", 0, b).r->base_offset == 3);
  const auto lsn = m->wal().next_lsn();

  auto retry_a = produce_sync(*m, "t", 0, a);
  REQUIRE(retry_a.r);
  CHECK(retry_a.r->base_offset == 0);
  auto retry_b = produce_sync(*m, "t", 0, b);
  REQUIRE(retry_b.r);
  CHECK(retry_b.r->base_offset == 3);
  auto s = m->state_of("t", 0);
  CHECK(s->high_watermark == 4);
  CHECK(s->next_offset == 4);
  CHECK(s->producers == 1);
  CHECK(m->wal().next_lsn() == lsn);  // nothing went to the WAL
  auto recs = fetch_all(*m, "t", 0);
  REQUIRE(recs.size() == 4);
  CHECK(recs[3].value == "b1");

  // The sequence carries on after the duplicates.
  CHECK(produce_sync(*m, "t", 0, pbatch({"c"}, 10, 0, 4)).r.error() == errc::out_of_order_sequence);
  CHECK(produce_sync(*m, "t", 0, pbatch({"c"}, 10, 0, 3)).r->base_offset == 4);
  auto ps = m->producers("t", 0);
  REQUIRE(ps);
  REQUIRE(ps->size() == 1);
  CHECK((*ps)[0].producer_id == 10);
  CHECK((*ps)[0].entry.epoch == 0);
  CHECK((*ps)[0].entry.batches.back().last_seq == 3);
  CHECK(m->producers("nope", 0).error() == errc::unknown_topic_or_partition);
}

TEST_CASE("a retry of a batch still in flight is answered only after the original's sync", "[engine][txn]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, plain({"before"})).r);
  m->wal().set_policy(hold_policy());

  const auto a = pbatch({"a1", "a2", "a3"}, 3, 1, 0);
  auto original = produce_async(*m, "t", 0, a);
  auto retry = produce_async(*m, "t", 0, a);
  auto retry2 = produce_async(*m, "t", 0, a);
  // Nothing can have been synced: the WAL holds the original back.
  CHECK_FALSE(*original.answered);
  CHECK_FALSE(*retry.answered);
  CHECK_FALSE(*retry2.answered);
  auto s = m->state_of("t", 0);
  CHECK(s->next_offset == 4);  // assigned once
  CHECK(s->high_watermark == 1);
  CHECK(m->wal().queued_records() == 1);

  m->wal().set_policy(wal::flush_policy{});
  REQUIRE(original.get());
  REQUIRE(retry.get());
  REQUIRE(retry2.get());
  CHECK(original.get()->base_offset == 1);
  CHECK(retry.get()->base_offset == 1);
  CHECK(retry2.get()->base_offset == 1);
  CHECK(*retry.hw_at_answer >= 4);  // the original was durable when the retry was answered
  CHECK(*retry2.hw_at_answer >= 4);
  CHECK(hw(*m) == 4);
  auto recs = fetch_all(*m, "t", 0);
  REQUIRE(recs.size() == 4);
  CHECK(recs[1].value == "a1");
}

TEST_CASE("a retry of an in-flight batch fails when the original's sync fails", "[engine][txn]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  auto m = open_mem(fs);
  REQUIRE(m->create_topic("t", 1));
  m->wal().set_policy(hold_policy());
  const auto a = pbatch({"a"}, 3, 0, 0);
  auto original = produce_async(*m, "t", 0, a);
  auto retry = produce_async(*m, "t", 0, a);
  fs->fail_nth_sync(1);
  m->wal().set_policy(wal::flush_policy{});
  CHECK(original.get().error() == errc::storage_error);
  CHECK(retry.get().error() == errc::storage_error);
  CHECK(hw(*m) == 0);
}

TEST_CASE("a retry that arrives after its original failed is answered, with the failure", "[engine][txn]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  auto m = open_mem(fs);
  REQUIRE(m->create_topic("t", 1));
  const auto a = pbatch({"a"}, 3, 0, 0);
  fs->fail_nth_sync(1);
  REQUIRE(produce_sync(*m, "t", 0, a).r.error() == errc::storage_error);
  // Clients retry KAFKA_STORAGE_ERROR with the same batch. The log has failed for good, so the
  // original will never be durable: the retry must not wait for it.
  auto retry = produce_async(*m, "t", 0, a);
  REQUIRE(*retry.answered);  // at once: nothing would ever answer it later
  CHECK(retry.get().error() == errc::storage_error);
  CHECK(produce_sync(*m, "t", 0, pbatch({"b"}, 3, 0, 1)).r.error() == errc::storage_error);
}

TEST_CASE("a retry of a durable batch is not failed by a later batch's failed sync", "[engine][txn]") {
  // Two in-flight batches of one producer, each synced by its own group; the retries arrive
  // newest first. The first batch is durable, the second's sync fails: the first's retry must get
  // the first's offset, not the second's failure.
  auto fs = std::make_shared<wal::mem_file_system>();
  auto c = mem_config();
  c.wal.caps.max_records = 1;  // each batch its own group
  auto m = open_mem(fs, c);
  REQUIRE(m->create_topic("t", 1));
  m->wal().set_policy(hold_policy());
  const auto a = pbatch({"a"}, 3, 0, 0);
  const auto b = pbatch({"b"}, 3, 0, 1);
  auto pa = produce_async(*m, "t", 0, a);
  auto pb = produce_async(*m, "t", 0, b);
  auto rb = produce_async(*m, "t", 0, b);
  auto ra = produce_async(*m, "t", 0, a);
  fs->fail_nth_sync(2);
  m->wal().set_policy(wal::flush_policy{});
  REQUIRE(pa.get());
  CHECK(pa.get()->base_offset == 0);
  CHECK(pb.get().error() == errc::storage_error);
  CHECK(rb.get().error() == errc::storage_error);
  auto r = ra.get();
  REQUIRE(r);
  CHECK(r->base_offset == 0);
  CHECK(hw(*m) == 1);
}

TEST_CASE("in-flight batches of one producer are checked in log order", "[engine][txn]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"s0"}, 8, 0, 0)).r);  // the producer is known now
  m->wal().set_policy(hold_policy());

  // seq 2 overtakes seq 1: refused at once, before seq 1 was even sent.
  auto early = produce_async(*m, "t", 0, pbatch({"s2"}, 8, 0, 2));
  REQUIRE(*early.answered);
  CHECK(early.get().error() == errc::out_of_order_sequence);
  auto s1 = produce_async(*m, "t", 0, pbatch({"s1"}, 8, 0, 1));
  auto s2 = produce_async(*m, "t", 0, pbatch({"s2"}, 8, 0, 2));  // seq 1 is only queued, yet counts
  auto s3 = produce_async(*m, "t", 0, pbatch({"s3a", "s3b"}, 8, 0, 3));
  // A step back to an in-flight batch's neighbour that is no retry of it.
  auto back = produce_async(*m, "t", 0, pbatch({"x", "y"}, 8, 0, 2));
  REQUIRE(*back.answered);
  CHECK(back.get().error() == errc::out_of_order_sequence);
  CHECK_FALSE(*s1.answered);
  CHECK_FALSE(*s2.answered);
  CHECK_FALSE(*s3.answered);
  CHECK(m->state_of("t", 0)->next_offset == 5);

  m->wal().set_policy(wal::flush_policy{});
  CHECK(s1.get()->base_offset == 1);
  CHECK(s2.get()->base_offset == 2);
  CHECK(s3.get()->base_offset == 3);
  auto recs = fetch_all(*m, "t", 0);
  REQUIRE(recs.size() == 5);
  CHECK(recs[1].value == "s1");
  CHECK(recs[2].value == "s2");
  CHECK(recs[4].value == "s3b");
}

TEST_CASE("epochs through the log: fenced producers are refused, a new epoch starts at 0", "[engine][txn]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"e1"}, 4, 1, 0)).r);
  CHECK(produce_sync(*m, "t", 0, pbatch({"e2"}, 4, 2, 5)).r.error() == errc::out_of_order_sequence);
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"e2"}, 4, 2, 0)).r);
  CHECK(produce_sync(*m, "t", 0, pbatch({"e1"}, 4, 1, 1)).r.error() == errc::invalid_producer_epoch);
  CHECK(produce_sync(*m, "t", 0, pbatch({"e1"}, 4, 1, 0)).r.error() == errc::invalid_producer_epoch);
  CHECK(hw(*m) == 2);
}

TEST_CASE("duplicates are still found after a restart and after a crash", "[engine][txn]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  std::vector<std::vector<std::byte>> sent;
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 2));
    for (int i = 0; i < 6; ++i) {
      sent.push_back(pbatch({"v" + std::to_string(i), "w"}, 21, 3, 2 * i));
      REQUIRE(produce_sync(*m, "t", 0, sent.back()).r->base_offset == 2 * i);
      REQUIRE(produce_sync(*m, "t", 1, plain({"noise"})).r);
    }
  }
  SECTION("close and reopen") {
    auto m = open_mem(fs);
    CHECK(hw(*m) == 12);
    CHECK(m->state_of("t", 0)->producers == 1);
    CHECK(m->state_of("t", 1)->producers == 0);
    for (int i = 1; i < 6; ++i) {
      auto r = produce_sync(*m, "t", 0, sent[static_cast<size_t>(i)]);
      REQUIRE(r.r);
      CHECK(r.r->base_offset == 2 * i);
    }
    CHECK(hw(*m) == 12);
    CHECK(produce_sync(*m, "t", 0, sent[0]).r.error() == errc::out_of_order_sequence);  // the sixth oldest
    CHECK(produce_sync(*m, "t", 0, pbatch({"next"}, 21, 2, 12)).r.error() == errc::invalid_producer_epoch);
    CHECK(produce_sync(*m, "t", 0, pbatch({"next"}, 21, 3, 12)).r->base_offset == 12);
  }
  SECTION("a crash loses the unsynced batch and only it") {
    {
      auto m = open_mem(fs);
      fs->fail_nth_sync(1);
      CHECK(produce_sync(*m, "t", 0, pbatch({"lost"}, 21, 3, 12)).r.error() == errc::storage_error);
    }
    fs->crash();
    auto m = open_mem(fs);
    CHECK(hw(*m) == 12);
    CHECK(produce_sync(*m, "t", 0, sent[5]).r->base_offset == 10);
    // The lost batch was never durable: its retry is appended, as new.
    auto again = produce_sync(*m, "t", 0, pbatch({"lost"}, 21, 3, 12));
    REQUIRE(again.r);
    CHECK(again.r->base_offset == 12);
    CHECK(produce_sync(*m, "t", 0, pbatch({"lost"}, 21, 3, 12)).r->base_offset == 12);
    CHECK(hw(*m) == 13);
  }
}

TEST_CASE("producer state expires by the broker clock", "[engine][txn]") {
  auto now = std::make_shared<std::atomic<int64_t>>(1'000'000);
  config c = mem_config();
  c.producer_id_expiration_ms = 1000;
  c.now_ms = [now] { return now->load(); };
  auto m = open_mem(std::make_shared<wal::mem_file_system>(), c);
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"a"}, 1, 0, 0)).r);
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"t"}, 2, 0, 0, true)).r);
  CHECK(m->producer_totals() == std::pair<size_t, size_t>{2, 1});
  *now += 1000;
  m->expire_producers();
  CHECK(m->producer_totals().first == 2);
  *now += 1;
  m->expire_producers();
  CHECK(m->producer_totals() == std::pair<size_t, size_t>{1, 1});  // the open transaction keeps producer 2
  // Producer 1 is unknown now: any sequence starts it again.
  CHECK(produce_sync(*m, "t", 0, pbatch({"b"}, 1, 0, 50)).r->base_offset == 2);
}

// --- transactions ---

TEST_CASE("a transaction holds the last stable offset until its marker is durable", "[engine][txn]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, plain({"p0"})).r);
  CHECK(lso(*m) == 1);
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"t1", "t2"}, 5, 0, 0, true)).r->base_offset == 1);
  auto s = m->state_of("t", 0);
  CHECK(s->high_watermark == 3);
  CHECK(s->last_stable_offset == 1);
  CHECK(s->open_transactions == 1);
  REQUIRE(produce_sync(*m, "t", 0, plain({"p3"})).r);
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"t4"}, 5, 0, 2, true)).r);
  CHECK(hw(*m) == 5);
  CHECK(lso(*m) == 1);

  m->wal().set_policy(hold_policy());
  auto mk = marker_async(*m, "t", 0, 5, 0, true);
  CHECK_FALSE(*mk.answered);
  s = m->state_of("t", 0);
  CHECK(s->next_offset == 6);  // written, at offset 5
  CHECK(s->high_watermark == 5);
  CHECK(s->last_stable_offset == 1);  // not durable yet
  auto rc = m->fetch("t", 0, 0, 1 << 20, true);
  REQUIRE(rc);
  CHECK(bases(*rc) == offsets{0});
  CHECK(rc->last_stable_offset == 1);

  m->wal().set_policy(wal::flush_policy{});
  REQUIRE(mk.get());
  CHECK(*mk.get() == 5);
  s = m->state_of("t", 0);
  CHECK(s->high_watermark == 6);
  CHECK(s->last_stable_offset == 6);
  CHECK(s->open_transactions == 0);
  rc = m->fetch("t", 0, 0, 1 << 20, true);
  REQUIRE(rc);
  CHECK(bases(*rc) == offsets{0, 1, 3, 4, 5});
  CHECK(rc->aborted.empty());
  // The marker is in the data, as a control batch.
  auto h = read_header(rc->batches.back());
  CHECK(h.control());
  CHECK(h.producer_id == 5);
  CHECK(control_batch_commit(rc->batches.back()) == true);
  CHECK(marker_sync(*m, "t", 1, 5, 0, true).error() == errc::unknown_topic_or_partition);
  CHECK(marker_sync(*m, "nope", 0, 5, 0, true).error() == errc::unknown_topic_or_partition);
}

TEST_CASE("read_committed stops at the last stable offset and lists aborted transactions", "[engine][txn]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"a0", "a1"}, 5, 0, 0, true)).r);  // 0-1: producer 5
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"b2"}, 6, 0, 0, true)).r);        // 2: producer 6
  REQUIRE(produce_sync(*m, "t", 0, plain({"p3"})).r);                        // 3
  CHECK(hw(*m) == 4);
  CHECK(lso(*m) == 0);
  auto rc = m->fetch("t", 0, 0, 1 << 20, true);
  REQUIRE(rc);
  CHECK(rc->batches.empty());
  CHECK(rc->aborted.empty());
  CHECK(rc->high_watermark == 4);
  CHECK(rc->last_stable_offset == 0);
  CHECK(m->fetch("t", 0, 2, 1 << 20, true)->batches.empty());  // between LSO and HW: nothing
  CHECK(m->fetch("t", 0, 4, 1 << 20, true)->batches.empty());
  CHECK(m->fetch("t", 0, 5, 1 << 20, true).error() == errc::offset_out_of_range);
  CHECK(m->fetch("t", 0, 0, 1 << 20, false)->batches.size() == 3);  // read_uncommitted sees it all
  CHECK(m->list_offsets("t", 0, -1, true)->offset == 0);
  CHECK(m->list_offsets("t", 0, -1, false)->offset == 4);
  CHECK(m->list_offsets("t", 0, -2, true)->offset == 0);

  REQUIRE(*marker_sync(*m, "t", 0, 5, 0, false) == 4);  // abort producer 5: [0, 4]
  CHECK(lso(*m) == 2);                                  // producer 6 still open
  CHECK(m->list_offsets("t", 0, -1, true)->offset == 2);
  rc = m->fetch("t", 0, 0, 1 << 20, true);
  REQUIRE(rc);
  CHECK(bases(*rc) == offsets{0});
  CHECK(aborted(*rc) == pid_first{{5, 0}});
  CHECK(rc->aborted[0].last_offset == 4);
  CHECK_FALSE(rc->aborted[0].commit);

  REQUIRE(*marker_sync(*m, "t", 0, 6, 0, true) == 5);  // commit producer 6
  CHECK(lso(*m) == 6);
  CHECK(m->list_offsets("t", 0, -1, true)->offset == 6);
  rc = m->fetch("t", 0, 0, 1 << 20, true);
  REQUIRE(rc);
  CHECK(bases(*rc) == offsets{0, 2, 3, 4, 5});
  CHECK(aborted(*rc) == pid_first{{5, 0}});  // the commit is no aborted transaction
  CHECK(read_header(rc->batches[3]).control());
  CHECK(control_batch_commit(rc->batches[3]) == false);
  CHECK(control_batch_commit(rc->batches[4]) == true);

  // Overlap: an aborted transaction is listed when it ends at or after the fetch offset and
  // began at or before the last offset returned.
  CHECK(aborted(*m->fetch("t", 0, 3, 1 << 20, true)) == pid_first{{5, 0}});
  CHECK(aborted(*m->fetch("t", 0, 4, 1 << 20, true)) == pid_first{{5, 0}});
  CHECK(m->fetch("t", 0, 5, 1 << 20, true)->aborted.empty());
  CHECK(m->fetch("t", 0, 6, 1 << 20, true)->aborted.empty());
  CHECK(m->fetch("t", 0, 0, 1 << 20, false)->aborted.empty());  // read_uncommitted: none

  SECTION("a later aborted transaction is listed only when the returned data reaches it") {
    REQUIRE(produce_sync(*m, "t", 0, plain({"p6"})).r);                  // 6
    REQUIRE(produce_sync(*m, "t", 0, pbatch({"c7"}, 7, 0, 0, true)).r);  // 7
    REQUIRE(*marker_sync(*m, "t", 0, 7, 0, false) == 8);
    auto all = m->fetch("t", 0, 0, 1 << 20, true);
    REQUIRE(all);
    CHECK(aborted(*all) == pid_first{{5, 0}, {7, 7}});
    // max_bytes = 1: one batch, offset 6 -> producer 7's transaction (from 7) is not reached.
    auto one = m->fetch("t", 0, 6, 1, true);
    REQUIRE(one);
    CHECK(bases(*one) == offsets{6});
    CHECK(one->aborted.empty());
    auto two = m->fetch("t", 0, 6, one->bytes + 1, true);
    REQUIRE(two);
    CHECK(bases(*two) == offsets{6});  // a whole batch or nothing past the first
    auto from7 = m->fetch("t", 0, 7, 1, true);
    CHECK(aborted(*from7) == pid_first{{7, 7}});
  }
}

TEST_CASE("ListOffsets by timestamp under read_committed finds nothing at or above the LSO", "[engine][txn]") {
  // Kafka's Partition.fetchOffsetForTimestamp: a timestamp lookup answers only offsets below the
  // last fetchable offset, the LSO for read_committed.
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, plain({"x"}, 100)).r);                  // 0, ts 100
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"y"}, 5, 0, 0, true, 200)).r);  // 1, ts 200, open
  REQUIRE(produce_sync(*m, "t", 0, plain({"z"}, 300)).r);                  // 2, ts 300
  CHECK(m->list_offsets("t", 0, 50, true)->offset == 0);
  CHECK(m->list_offsets("t", 0, 150, false)->offset == 1);
  auto rc = m->list_offsets("t", 0, 150, true);
  CHECK(rc->offset == -1);
  CHECK(rc->timestamp == -1);
  CHECK(m->list_offsets("t", 0, 250, true)->offset == -1);
  REQUIRE(marker_sync(*m, "t", 0, 5, 0, true));
  CHECK(m->list_offsets("t", 0, 150, true)->offset == 1);
  CHECK(m->list_offsets("t", 0, 250, true)->offset == 2);
}

TEST_CASE("a marker whose sync fails leaves its transaction open", "[engine][txn]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  auto m = open_mem(fs);
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"t0"}, 5, 0, 0, true)).r);
  REQUIRE(produce_sync(*m, "t", 0, plain({"p1"})).r);
  CHECK(lso(*m) == 0);
  fs->fail_nth_sync(1);
  CHECK(marker_sync(*m, "t", 0, 5, 0, false).error() == errc::storage_error);
  // The abort is not in the log: read_committed consumers must not see the data as committed.
  CHECK(hw(*m) == 2);
  CHECK(lso(*m) == 0);
  CHECK(m->fetch("t", 0, 0, 1 << 20, true)->batches.empty());
  CHECK(m->list_offsets("t", 0, -1, true)->offset == 0);
}

TEST_CASE("a marker the WAL refuses at once leaves its transaction open", "[engine][txn]") {
  config c = mem_config();
  c.wal.max_queue_bytes = 200;
  auto m = open_mem(std::make_shared<wal::mem_file_system>(), c);
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"t0"}, 5, 0, 0, true)).r);
  m->wal().set_policy(hold_policy());
  auto big = produce_async(*m, "t", 0, plain({std::string(190, 'x')}));
  auto mk = marker_async(*m, "t", 0, 5, 0, true);
  REQUIRE(*mk.answered);
  CHECK(mk.get().error() == errc::busy);
  CHECK(m->state_of("t", 0)->next_offset == 2);  // the marker's offset was given back
  CHECK(m->state_of("t", 0)->open_transactions == 1);
  m->wal().set_policy(wal::flush_policy{});
  REQUIRE(big.get());
  CHECK(lso(*m) == 0);
  REQUIRE(*marker_sync(*m, "t", 0, 5, 0, true) == 2);
  CHECK(lso(*m) == 3);
}

TEST_CASE("the last stable offset never moves backwards", "[engine][txn]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  // A reader polls the LSO all along (Catch2 is not thread-safe: it counts, the test checks).
  std::atomic<bool> stop{false};
  std::atomic<int> backwards{0};
  std::atomic<int64_t> polls{0};
  std::thread reader([&] {
    int64_t last = 0;
    do {
      auto s = m->state_of("t", 0);
      if (!s) continue;
      if (s->last_stable_offset < last || s->last_stable_offset > s->high_watermark) backwards++;
      last = s->last_stable_offset;
      polls++;
    } while (!stop.load());
  });
  std::vector<int64_t> seen;
  auto note = [&] { seen.push_back(lso(*m)); };

  note();
  REQUIRE(produce_sync(*m, "t", 0, plain({"p"})).r);
  note();
  m->wal().set_policy(hold_policy());
  // A transaction opened by a batch that is not durable yet, plain data behind it.
  auto t1 = produce_async(*m, "t", 0, pbatch({"a"}, 1, 0, 0, true));
  note();
  auto p2 = produce_async(*m, "t", 0, plain({"q"}));
  note();
  // Its marker, and a new transaction of the same producer, before any of it is durable.
  auto mk1 = marker_async(*m, "t", 0, 1, 0, false);
  note();
  auto t1b = produce_async(*m, "t", 0, pbatch({"b"}, 1, 0, 1, true));
  note();
  auto t2 = produce_async(*m, "t", 0, pbatch({"c"}, 2, 0, 0, true));
  note();
  m->wal().set_policy(wal::flush_policy{});
  REQUIRE(t1.get());
  REQUIRE(p2.get());
  REQUIRE(mk1.get());
  REQUIRE(t1b.get());
  REQUIRE(t2.get());
  note();
  CHECK(lso(*m) == 4);  // producer 1's second transaction, at offset 4
  REQUIRE(marker_sync(*m, "t", 0, 2, 0, true));
  note();
  CHECK(lso(*m) == 4);
  REQUIRE(marker_sync(*m, "t", 0, 1, 0, true));
  note();
  CHECK(lso(*m) == 8);
  // Markers for transactions that are not open here move nothing back.
  REQUIRE(marker_sync(*m, "t", 0, 1, 0, true));
  note();
  REQUIRE(marker_sync(*m, "t", 0, 99, 0, false));
  note();
  CHECK(lso(*m) == hw(*m));
  stop = true;
  reader.join();
  CHECK(backwards == 0);
  CHECK(polls > 0);
  for (size_t i = 1; i < seen.size(); ++i) CHECK(seen[i - 1] <= seen[i]);
}

TEST_CASE("replay rebuilds open transactions, the aborted list and the LSO", "[engine][txn]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  partition_state before;
  fetch_result rc_before;
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 1));
    REQUIRE(produce_sync(*m, "t", 0, pbatch({"a0", "a1"}, 5, 0, 0, true)).r);  // 0-1, aborted below
    REQUIRE(produce_sync(*m, "t", 0, plain({"p2"})).r);                        // 2
    REQUIRE(produce_sync(*m, "t", 0, pbatch({"c3"}, 7, 0, 0, true)).r);        // 3, committed below
    REQUIRE(*marker_sync(*m, "t", 0, 5, 0, false) == 4);
    REQUIRE(produce_sync(*m, "t", 0, pbatch({"o5"}, 6, 2, 0, true)).r);  // 5, stays open
    REQUIRE(*marker_sync(*m, "t", 0, 7, 0, true) == 6);
    REQUIRE(produce_sync(*m, "t", 0, pbatch({"i7"}, 8, 0, 0)).r);  // 7, idempotent
    before = *m->state_of("t", 0);
    rc_before = *m->fetch("t", 0, 0, 1 << 20, true);
    CHECK(before.last_stable_offset == 5);
    CHECK(before.high_watermark == 8);
    CHECK(before.open_transactions == 1);
    CHECK(bases(rc_before) == offsets{0, 2, 3, 4});
    CHECK(aborted(rc_before) == pid_first{{5, 0}});
  }
  auto check_rebuilt = [&](log_manager& m) {
    auto s = m.state_of("t", 0);
    REQUIRE(s);
    CHECK(s->last_stable_offset == before.last_stable_offset);
    CHECK(s->high_watermark == before.high_watermark);
    CHECK(s->next_offset == before.next_offset);
    CHECK(s->producers == before.producers);
    CHECK(s->open_transactions == before.open_transactions);
    auto rc = m.fetch("t", 0, 0, 1 << 20, true);
    REQUIRE(rc);
    CHECK(bases(*rc) == bases(rc_before));
    CHECK(aborted(*rc) == aborted(rc_before));
    CHECK(rc->batches == rc_before.batches);
    CHECK(m.list_offsets("t", 0, -1, true)->offset == 5);
    auto ps = m.producers("t", 0);
    REQUIRE(ps);
    for (const auto& p : *ps) {
      if (p.producer_id == 6) {
        CHECK(p.entry.txn_first_offset == 5);
        CHECK(p.entry.epoch == 2);
      } else {
        CHECK_FALSE(p.entry.txn_first_offset);
      }
    }
  };

  SECTION("after a clean close") {
    auto m = open_mem(fs);
    check_rebuilt(*m);
    // The open transaction carries on and ends as before.
    REQUIRE(produce_sync(*m, "t", 0, pbatch({"o8"}, 6, 2, 1, true)).r->base_offset == 8);
    CHECK(produce_sync(*m, "t", 0, pbatch({"i7"}, 8, 0, 0)).r->base_offset == 7);  // still a duplicate
    REQUIRE(*marker_sync(*m, "t", 0, 6, 2, false) == 9);
    CHECK(lso(*m) == 10);
    auto rc = m->fetch("t", 0, 0, 1 << 20, true);
    CHECK(aborted(*rc) == pid_first{{5, 0}, {6, 5}});
    m.reset();
    m = open_mem(fs);
    CHECK(lso(*m) == 10);
    CHECK(aborted(*m->fetch("t", 0, 0, 1 << 20, true)) == pid_first{{5, 0}, {6, 5}});
    CHECK(m->state_of("t", 0)->open_transactions == 0);
  }
  SECTION("after a crash that loses a marker") {
    {
      auto m = open_mem(fs);
      fs->fail_nth_sync(1);
      CHECK(marker_sync(*m, "t", 0, 6, 2, true).error() == errc::storage_error);
    }
    fs->crash();
    auto m = open_mem(fs);
    check_rebuilt(*m);  // the lost marker never happened: producer 6 is still open
    REQUIRE(*marker_sync(*m, "t", 0, 6, 2, true) == 8);
    CHECK(lso(*m) == 9);
  }
}

TEST_CASE("a fencing abort marker refuses the producer's old epoch", "[engine][txn]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 1));
    REQUIRE(produce_sync(*m, "t", 0, pbatch({"z"}, 9, 3, 0, true)).r);
    REQUIRE(marker_sync(*m, "t", 0, 9, 4, false));  // the coordinator bumped the epoch to 4
    CHECK(produce_sync(*m, "t", 0, pbatch({"z2"}, 9, 3, 1, true)).r.error() == errc::invalid_producer_epoch);
    CHECK(aborted(*m->fetch("t", 0, 0, 1 << 20, true)) == pid_first{{9, 0}});
  }
  auto m = open_mem(fs);
  CHECK(produce_sync(*m, "t", 0, pbatch({"z2"}, 9, 3, 1, true)).r.error() == errc::invalid_producer_epoch);
  CHECK(produce_sync(*m, "t", 0, pbatch({"n"}, 9, 4, 1, true)).r.error() == errc::out_of_order_sequence);
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"n"}, 9, 5, 0, true)).r);
}

TEST_CASE("a non-transactional batch inside the producer's open transaction is refused", "[engine][txn]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, pbatch({"t0"}, 5, 0, 0, true)).r);
  CHECK(produce_sync(*m, "t", 0, pbatch({"i1"}, 5, 0, 1, false)).r.error() == errc::invalid_txn_state);
  REQUIRE(marker_sync(*m, "t", 0, 5, 0, true));
  CHECK(produce_sync(*m, "t", 0, pbatch({"i1"}, 5, 0, 1, false)).r->base_offset == 2);
}
