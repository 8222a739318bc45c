// The log start offset and reclaiming space: DeleteRecords, time and size retention, WAL segment
// removal, the restatement of what removed segments held, and topic admin (CreatePartitions,
// AlterConfigs) surviving restarts. docs/wal-format.md, "Reclaiming space".
#include <catch2/catch.hpp>

#include <future>
#include <string>
#include <vector>

#include "engine/broker.h"
#include "engine/errc.h"
#include "engine/internal_gate.h"
#include "engine/wal_streams.h"
#include "tests/engine/test_util.h"
#include "tests/support/mem_file_system.h"

using namespace engine;
using namespace engine::test;

namespace {

constexpr int64_t now = 1'800'000'000'000;  // the tests' wall clock
constexpr int64_t day = 86'400'000;

config small_segments() {
  config c = mem_config();
  c.wal.segment_bytes = 64 << 10;
  c.now_ms = [] { return now; };
  return c;
}

std::unique_ptr<log_manager> open_mem(std::shared_ptr<wal::mem_file_system> fs, config c = small_segments(),
                                      const internal_record_fn& internal = {}) {
  auto m = log_manager::open(c, std::move(fs), internal);
  REQUIRE(m);
  return std::move(*m);
}

result<int64_t> delete_records_sync(log_manager& m, const std::string& topic, int32_t partition, int64_t offset) {
  std::promise<result<int64_t>> p;
  auto f = p.get_future();
  m.delete_records(topic, partition, offset, [&p](const result<int64_t>& r) { p.set_value(r); });
  return f.get();
}

// `count` one-record batches of about `bytes` each, stamped `timestamp`.
void fill(log_manager& m, const std::string& topic, int32_t partition, int count, size_t bytes, int64_t timestamp) {
  batch_options o;
  o.base_timestamp = timestamp;
  for (int i = 0; i < count; ++i)
    REQUIRE(produce_sync(m, topic, partition, make_batch({std::string(bytes, 'x')}, o)).r);
}

uint64_t wal_bytes(const log_manager& m) {
  uint64_t n = 0;
  for (const auto& s : m.wal().segments()) n += s.bytes;
  return n;
}

log_manager::retention_policy keep_for(int64_t ms, int64_t bytes = -1) { return {ms, bytes}; }

}  // namespace

TEST_CASE("DeleteRecords moves the log start durably, and fetches below it are out of range", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 2));
    fill(*m, "t", 0, 10, 10, now);

    auto moved = delete_records_sync(*m, "t", 0, 4);
    REQUIRE(moved);
    CHECK(*moved == 4);
    CHECK(m->state_of("t", 0)->log_start_offset == 4);
    CHECK(m->fetch("t", 0, 3, 1 << 20).error() == errc::offset_out_of_range);
    CHECK(fetch_all(*m, "t", 0, 4).front().value == std::string(10, 'x'));
    CHECK(fetch_all(*m, "t", 0, 4).size() == 6);
    CHECK(m->list_offsets("t", 0, -2)->offset == 4);  // earliest is the log start

    // Below the current log start: nothing moves back. Above the high watermark: refused.
    CHECK(*delete_records_sync(*m, "t", 0, 2) == 4);
    CHECK(delete_records_sync(*m, "t", 0, 11).error() == errc::offset_out_of_range);
    CHECK(delete_records_sync(*m, "t", 0, -2).error() == errc::offset_out_of_range);
    CHECK(delete_records_sync(*m, "t", 2, 0).error() == errc::unknown_topic_or_partition);
    CHECK(delete_records_sync(*m, "nope", 0, 0).error() == errc::unknown_topic_or_partition);
    // -1: everything up to the high watermark. The other partition is untouched.
    CHECK(*delete_records_sync(*m, "t", 0, -1) == 10);
    CHECK(m->state_of("t", 1)->log_start_offset == 0);
    CHECK(m->fetch("t", 0, 10, 1 << 20)->batches.empty());
    auto r = produce_sync(*m, "t", 0, make_batch({"after"}));
    REQUIRE(r.r);
    CHECK(r.r->base_offset == 10);
    CHECK(r.r->log_start_offset == 10);
  }
  fs->crash();
  auto m = open_mem(fs);
  auto s = m->state_of("t", 0);
  CHECK(s->log_start_offset == 10);
  CHECK(s->high_watermark == 11);
  CHECK(m->fetch("t", 0, 9, 1 << 20).error() == errc::offset_out_of_range);
  auto recs = fetch_all(*m, "t", 0, 10);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].value == "after");
}

TEST_CASE("a DeleteRecords whose record never became durable moves nothing", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 1));
    fill(*m, "t", 0, 5, 10, now);
    fs->fail_nth_sync(1);
    CHECK(delete_records_sync(*m, "t", 0, 3).error() == errc::storage_error);
    CHECK(m->state_of("t", 0)->log_start_offset == 0);
  }
  fs->crash();
  auto m = open_mem(fs);
  CHECK(m->state_of("t", 0)->log_start_offset == 0);
  CHECK(fetch_all(*m, "t", 0).size() == 5);
}

TEST_CASE("time retention moves the log start past old batches and removes their segments", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  int64_t start = 0;
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 1));
    fill(*m, "t", 0, 300, 1000, now - 3 * day);  // ~300 KiB: several 64 KiB segments
    fill(*m, "t", 0, 20, 1000, now);
    const auto before = m->wal().segments().size();
    REQUIRE(before >= 4);
    const uint64_t bytes_before = wal_bytes(*m);

    // Nothing is old enough under a week's retention.
    auto none = m->enforce_retention(now, [](const topic_info&) { return keep_for(7 * day); }, {});
    REQUIRE(none);
    CHECK(none->partitions_moved == 0);
    CHECK(none->segments_removed == 0);

    auto r = m->enforce_retention(now, [](const topic_info&) { return keep_for(day); }, {});
    REQUIRE(r);
    CHECK(r->partitions_moved == 1);
    CHECK(r->segments_removed >= before - 2);
    CHECK(r->bytes_removed > 0);
    CHECK(r->wal_bytes == wal_bytes(*m));
    CHECK(wal_bytes(*m) < bytes_before / 2);
    start = m->state_of("t", 0)->log_start_offset;
    CHECK(start == 300);
    auto recs = fetch_all(*m, "t", 0, start);
    CHECK(recs.size() == 20);
    CHECK(m->fetch("t", 0, 0, 1 << 20).error() == errc::offset_out_of_range);

    // A second pass finds nothing more to do.
    auto again = m->enforce_retention(now, [](const topic_info&) { return keep_for(day); }, {});
    REQUIRE(again);
    CHECK(again->partitions_moved == 0);
    CHECK(again->segments_removed == 0);
  }
  fs->crash();
  auto m = open_mem(fs);
  auto s = m->state_of("t", 0);
  CHECK(s->log_start_offset == 300);
  CHECK(s->high_watermark == 320);
  CHECK(fetch_all(*m, "t", 0, 300).size() == 20);
  CHECK(m->list_offsets("t", 0, -2)->offset == 300);
  auto r = produce_sync(*m, "t", 0, make_batch({"next"}));
  REQUIRE(r.r);
  CHECK(r.r->base_offset == 320);
}

TEST_CASE("retention that empties a partition keeps its offsets going after a restart", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 1));
    REQUIRE(m->create_topic("other", 1));
    fill(*m, "t", 0, 200, 1000, now - 3 * day);
    fill(*m, "other", 0, 200, 1000, now);  // the later segments, which stay
    auto r =
        m->enforce_retention(now, [](const topic_info& t) { return t.name == "t" ? keep_for(day) : keep_for(-1); }, {});
    REQUIRE(r);
    CHECK(r->segments_removed > 0);
    auto s = m->state_of("t", 0);
    CHECK(s->log_start_offset == 200);
    CHECK(s->high_watermark == 200);
  }
  fs->crash();
  auto m = open_mem(fs);
  auto s = m->state_of("t", 0);
  CHECK(s->log_start_offset == 200);
  CHECK(s->high_watermark == 200);
  CHECK(s->next_offset == 200);
  CHECK(fetch_all(*m, "other", 0).size() == 200);
  auto r = produce_sync(*m, "t", 0, make_batch({"next"}));
  REQUIRE(r.r);
  CHECK(r.r->base_offset == 200);
}

TEST_CASE("size retention keeps each partition within retention.bytes", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  auto m = open_mem(fs);
  REQUIRE(m->create_topic("t", 2));
  for (int round = 0; round < 150; ++round) {
    fill(*m, "t", 0, 1, 1000, now);
    fill(*m, "t", 1, 1, 1000, now);
  }
  const int64_t limit = 40'000;
  auto r = m->enforce_retention(now, [&](const topic_info&) { return keep_for(-1, limit); }, {});
  REQUIRE(r);
  CHECK(r->partitions_moved == 2);
  CHECK(r->segments_removed > 0);
  for (int p = 0; p < 2; ++p) {
    auto s = m->state_of("t", p);
    REQUIRE(s);
    CHECK(s->log_start_offset > 100);
    CHECK(s->high_watermark == 150);
    // What is left is within the limit, and one more batch would not have been.
    const auto left = fetch_all(*m, "t", p, s->log_start_offset);
    CHECK(left.size() == static_cast<size_t>(150 - s->log_start_offset));
    const auto one = m->fetch("t", p, s->log_start_offset, 1)->batches.front().size();
    CHECK(static_cast<int64_t>(left.size() * one) <= limit);
    CHECK(static_cast<int64_t>((left.size() + 1) * one) > limit);
  }
}

TEST_CASE("a slow partition pinning old segments is copied forward, and the segments go", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  const auto policy = [](const topic_info& t) { return t.name == "keep" ? keep_for(-1) : keep_for(day); };
  size_t segments = 0;
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("keep", 1));
    REQUIRE(m->create_topic("old", 1));
    fill(*m, "keep", 0, 3, 100, now - 3 * day);  // in the first segment, kept forever
    fill(*m, "old", 0, 300, 1000, now - 3 * day);
    fill(*m, "keep", 0, 2, 100, now - 3 * day);  // and in the last one
    segments = m->wal().segments().size();
    REQUIRE(segments >= 4);

    auto r = m->enforce_retention(now, policy, {});
    REQUIRE(r);
    CHECK(r->partitions_moved == 1);
    CHECK(r->partitions_relocated == 1);  // "keep" pinned them all; copying it costs ~500 bytes
    CHECK(r->bytes_relocated > 0);
    CHECK(r->bytes_relocated < 2000);
    CHECK(r->segments_removed >= segments - 2);
    auto recs = fetch_all(*m, "keep", 0);
    REQUIRE(recs.size() == 5);
    for (int i = 0; i < 5; ++i) CHECK(recs[static_cast<size_t>(i)].offset == i);
    CHECK(m->list_offsets("keep", 0, now - 3 * day)->offset == 0);  // timestamps travel with the copy
    // Nothing pins any more: the next pass copies nothing.
    auto again = m->enforce_retention(now, policy, {});
    REQUIRE(again);
    CHECK(again->partitions_relocated == 0);
    REQUIRE(produce_sync(*m, "keep", 0, make_batch({"after"})).r);
  }
  fs->crash();
  auto m = open_mem(fs);
  auto recs = fetch_all(*m, "keep", 0);
  REQUIRE(recs.size() == 6);
  for (int i = 0; i < 6; ++i) CHECK(recs[static_cast<size_t>(i)].offset == i);
  CHECK(recs[5].value == "after");
  CHECK(m->state_of("old", 0)->log_start_offset == 300);
  CHECK(m->wal().segments().size() <= 2);
}

TEST_CASE("copying forward is not worth it when the pinning partition is most of the log", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  auto m = open_mem(fs);
  REQUIRE(m->create_topic("keep", 1));
  REQUIRE(m->create_topic("old", 1));
  // Old segments mostly live: "keep" interleaved with a little dead data.
  for (int i = 0; i < 200; ++i) {
    fill(*m, "keep", 0, 1, 1000, now);
    if (i % 4 == 0) fill(*m, "old", 0, 1, 1000, now - 3 * day);
  }
  auto r = m->enforce_retention(
      now, [](const topic_info& t) { return t.name == "keep" ? keep_for(-1) : keep_for(day); }, {});
  REQUIRE(r);
  CHECK(r->partitions_moved == 1);
  CHECK(r->partitions_relocated == 0);
  CHECK(r->segments_removed == 0);
}

TEST_CASE("an interrupted copy forward leaves the originals in charge", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("keep", 1));
    REQUIRE(m->create_topic("old", 1));
    fill(*m, "keep", 0, 3, 100, now);
    fill(*m, "old", 0, 300, 1000, now - 3 * day);
    // Log starts move (one sync), then the copies' sync fails.
    fs->fail_nth_sync(2);
    auto r = m->enforce_retention(
        now, [](const topic_info& t) { return t.name == "keep" ? keep_for(-1) : keep_for(day); }, {});
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::storage_error);
    CHECK(fetch_all(*m, "keep", 0).size() == 3);
  }
  fs->crash();
  auto m = open_mem(fs);
  auto recs = fetch_all(*m, "keep", 0);
  REQUIRE(recs.size() == 3);
  CHECK(m->state_of("keep", 0)->high_watermark == 3);
  CHECK(m->state_of("old", 0)->log_start_offset == 300);
  REQUIRE(produce_sync(*m, "keep", 0, make_batch({"after"})).r);
  CHECK(fetch_all(*m, "keep", 0).size() == 4);
}

TEST_CASE("a copy forward keeps idempotent producers' state and aborted transactions across restarts",
          "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  batch_options idem;
  idem.producer_id = 42;
  idem.producer_epoch = 0;
  idem.base_timestamp = now;
  const auto idem_batch = [&](int32_t seq, const std::string& v) {
    auto o = idem;
    o.base_sequence = seq;
    return make_batch({v}, o);
  };
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("keep", 1));
    REQUIRE(m->create_topic("old", 1));
    REQUIRE(produce_sync(*m, "keep", 0, idem_batch(0, "a")).r);
    REQUIRE(produce_sync(*m, "keep", 0, idem_batch(1, "b")).r);
    fill(*m, "old", 0, 300, 1000, now - 3 * day);
    auto r = m->enforce_retention(
        now, [](const topic_info& t) { return t.name == "keep" ? keep_for(-1) : keep_for(day); }, {});
    REQUIRE(r);
    CHECK(r->partitions_relocated == 1);
    CHECK(r->segments_removed > 0);
  }
  fs->crash();
  auto m = open_mem(fs);
  // The retry of the last batch is recognised as the original, not written again.
  auto retry = produce_sync(*m, "keep", 0, idem_batch(1, "b"));
  REQUIRE(retry.r);
  CHECK(retry.r->base_offset == 1);
  CHECK(retry.r->duplicate);
  CHECK(m->state_of("keep", 0)->high_watermark == 2);
  auto next = produce_sync(*m, "keep", 0, idem_batch(2, "c"));
  REQUIRE(next.r);
  CHECK(next.r->base_offset == 2);
  CHECK(produce_sync(*m, "keep", 0, idem_batch(5, "gap")).r.error() == errc::out_of_order_sequence);
}

TEST_CASE("a deleted topic's segments are reclaimed", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("gone", 1));
    REQUIRE(m->create_topic("stays", 1));
    fill(*m, "gone", 0, 300, 1000, now);
    fill(*m, "stays", 0, 5, 100, now);
    const uint64_t before = wal_bytes(*m);
    REQUIRE(m->delete_topic("gone"));
    auto r = m->enforce_retention(now, [](const topic_info&) { return keep_for(-1); }, {});
    REQUIRE(r);
    CHECK(r->partitions_moved == 0);
    CHECK(r->segments_removed > 0);
    CHECK(wal_bytes(*m) < before / 2);
  }
  fs->crash();
  auto m = open_mem(fs);
  CHECK_FALSE(m->find_topic("gone"));
  CHECK(fetch_all(*m, "stays", 0).size() == 5);
  CHECK(m->state_of("stays", 0)->log_start_offset == 0);
}

TEST_CASE("internal records in removed segments are restated first, or nothing is removed", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  const auto append_sync = [](log_manager& m, std::string text) {
    std::promise<std::error_code> p;
    auto f = p.get_future();
    std::vector<std::byte> payload;
    for (char ch : text) payload.push_back(std::byte(ch));
    m.append_internal(group_stream, wal_type_group_metadata, std::move(payload),
                      [&p](std::error_code ec) { p.set_value(ec); });
    return f.get();
  };
  std::vector<std::string> seen;
  const internal_record_fn collect = [&seen](uint32_t, uint8_t, std::span<const std::byte> payload) {
    std::string s;
    for (auto b : payload) s.push_back(static_cast<char>(b));
    seen.push_back(s);
  };
  {
    auto m = open_mem(fs, small_segments(), collect);
    REQUIRE(m->create_topic("gone", 1));
    REQUIRE(!append_sync(*m, "first"));
    fill(*m, "gone", 0, 300, 1000, now);
    REQUIRE(m->delete_topic("gone"));
    const auto segments = m->wal().segments().size();

    // A restatement that fails: nothing is removed, the error is the pass's.
    auto failed = m->enforce_retention(
        now, [](const topic_info&) { return keep_for(-1); },
        [] { return result<void>(fail(make_error_code(errc::busy), "coordinators busy")); });
    REQUIRE_FALSE(failed);
    CHECK(failed.error() == errc::busy);
    CHECK(m->wal().segments().size() == segments);

    int restated = 0;
    auto r = m->enforce_retention(
        now, [](const topic_info&) { return keep_for(-1); },
        [&]() -> result<void> {
          ++restated;
          if (auto ec = append_sync(*m, "restated")) return fail(ec);
          return {};
        });
    REQUIRE(r);
    CHECK(restated == 1);
    CHECK(r->segments_removed > 0);
  }
  seen.clear();
  fs->crash();
  auto m = open_mem(fs, small_segments(), collect);
  CHECK(seen == std::vector<std::string>{"restated"});  // "first" went with its segment
}

TEST_CASE("CreatePartitions and topic configs survive restarts", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 2));
    CHECK(m->create_partitions("t", 2).error() == errc::invalid_partitions);
    CHECK(m->create_partitions("t", 1).error() == errc::invalid_partitions);
    CHECK(m->create_partitions("nope", 4).error() == errc::unknown_topic_or_partition);
    fill(*m, "t", 1, 3, 10, now);
    auto grown = m->create_partitions("t", 4);
    REQUIRE(grown);
    CHECK(grown->partitions == 4);
    CHECK(m->state_of("t", 3)->high_watermark == 0);
    fill(*m, "t", 3, 2, 10, now);

    auto set = m->set_topic_configs("t", {{"retention.ms", "1000"}, {"max.message.bytes", "200"}});
    REQUIRE(set);
    CHECK(set->configs == topic_configs{{"max.message.bytes", "200"}, {"retention.ms", "1000"}});
    CHECK(m->set_topic_configs("nope", {}).error() == errc::unknown_topic_or_partition);
  }
  fs->crash();
  auto m = open_mem(fs);
  auto t = m->find_topic("t");
  REQUIRE(t);
  CHECK(t->partitions == 4);
  CHECK(t->configs == topic_configs{{"max.message.bytes", "200"}, {"retention.ms", "1000"}});
  CHECK(fetch_all(*m, "t", 1).size() == 3);
  CHECK(fetch_all(*m, "t", 3).size() == 2);
  // The topic's max.message.bytes holds for it alone.
  CHECK(produce_sync(*m, "t", 0, make_batch({std::string(500, 'x')})).r.error() == errc::message_too_large);
  CHECK(produce_sync(*m, "t", 0, make_batch({"small"})).r);
  REQUIRE(m->create_topic("u", 1));
  CHECK(produce_sync(*m, "u", 0, make_batch({std::string(500, 'x')})).r);
}

TEST_CASE("the internal gate holds writes behind a restatement until those in flight finish", "[engine][retention]") {
  internal_gate g;
  std::vector<std::string> order;
  g.submit([&] { order.push_back("w1"); });
  g.submit([&] { order.push_back("w2"); });
  CHECK(g.in_flight() == 2);
  g.restate([&] { order.push_back("restate"); });
  CHECK(order == std::vector<std::string>{"w1", "w2"});  // waits for both
  g.submit([&] { order.push_back("w3"); });              // held behind it
  CHECK(g.held() == 1);
  g.finished();
  CHECK(order.size() == 2);
  g.finished();
  CHECK(order == std::vector<std::string>{"w1", "w2", "restate", "w3"});
  CHECK(g.in_flight() == 1);
  CHECK(g.held() == 0);
  g.finished();
  // With nothing in flight a restatement runs at once.
  g.restate([&] { order.push_back("restate2"); });
  CHECK(order.back() == "restate2");
  g.submit([&] { order.push_back("w4"); });
  CHECK(order.back() == "w4");
}

TEST_CASE("replay ignores a copy forward cut short, and one followed by other records", "[engine][retention]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  const auto append_raw = [](log_manager& m, uint32_t stream, uint8_t type, std::vector<std::byte> bytes) {
    auto owner = std::make_shared<std::vector<std::byte>>(std::move(bytes));
    std::promise<bool> p;
    auto f = p.get_future();
    REQUIRE(m.wal().append(stream, type, wal::payload{owner, std::span<const std::byte>(*owner)},
                           [&p](const wal::result<wal::appended>& r) { p.set_value(r.has_value()); }));
    REQUIRE(f.get());
  };
  const auto relocation = [](int64_t start, int64_t end) {
    std::vector<std::byte> out(17);
    out[0] = std::byte{1};
    for (int i = 0; i < 8; ++i) out[1 + i] = std::byte((static_cast<uint64_t>(start) >> (8 * i)) & 0xff);
    for (int i = 0; i < 8; ++i) out[9 + i] = std::byte((static_cast<uint64_t>(end) >> (8 * i)) & 0xff);
    return out;
  };
  const auto batch_at = [](int64_t base, const std::string& v) {
    batch_options o;
    o.base_offset = base;
    return make_batch({v}, o);
  };
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 1));  // stream 0
    fill(*m, "t", 0, 3, 10, now);
    // A copy of [0, 3) that stops after offset 0, then the log ends.
    append_raw(*m, 0, wal_type_relocation, relocation(0, 3));
    append_raw(*m, 0, wal_type_record_batch, batch_at(0, "copy-0"));
  }
  {
    auto m = open_mem(fs);
    auto recs = fetch_all(*m, "t", 0);
    REQUIRE(recs.size() == 3);
    CHECK(recs[0].value == std::string(10, 'x'));  // the original, not the partial copy
    // A copy cut short by the partition's next batch; then a complete one.
    append_raw(*m, 0, wal_type_relocation, relocation(0, 3));
    append_raw(*m, 0, wal_type_record_batch, batch_at(0, "copy-0"));
    REQUIRE(produce_sync(*m, "t", 0, make_batch({"fourth"})).r);
    append_raw(*m, 0, wal_type_relocation, relocation(1, 4));
    append_raw(*m, 0, wal_type_record_batch, batch_at(1, "c1"));
    append_raw(*m, 0, wal_type_record_batch, batch_at(2, "c2"));
    append_raw(*m, 0, wal_type_record_batch, batch_at(3, "c3"));
  }
  auto m = open_mem(fs);
  auto s = m->state_of("t", 0);
  CHECK(s->log_start_offset == 1);
  CHECK(s->high_watermark == 4);
  auto recs = fetch_all(*m, "t", 0, 1);
  REQUIRE(recs.size() == 3);
  CHECK(recs[0].value == "c1");
  CHECK(recs[2].value == "c3");
  REQUIRE(produce_sync(*m, "t", 0, make_batch({"fifth"})).r);
  CHECK(fetch_all(*m, "t", 0, 4)[0].value == "fifth");
}
