// log_manager: topics, produce -> fetch, high watermark discipline, restart, list_offsets, long poll.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/broker.h"
#include "engine/errc.h"
#include "tests/engine/test_util.h"
#include "tests/support/mem_file_system.h"

using namespace engine;
using namespace engine::test;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<log_manager> open_mem(std::shared_ptr<wal::mem_file_system> fs, config c = mem_config()) {
  auto m = log_manager::open(c, std::move(fs));
  REQUIRE(m);
  return std::move(*m);
}

std::unique_ptr<log_manager> open_dir(const std::string& dir, config c = {}) {
  c.data_dir = dir;
  auto m = log_manager::open(c, wal::make_posix_file_system());
  REQUIRE(m);
  return std::move(*m);
}

// A policy that holds everything back until the test lets it go.
wal::flush_policy hold_policy() {
  wal::flush_policy p;
  p.min_batches = 1'000'000;
  p.linger = std::chrono::hours(1);
  p.buffer_bytes = 1ull << 40;
  return p;
}

}  // namespace

TEST_CASE("topic names, partition counts and duplicates are checked", "[engine][broker]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  CHECK(m->create_topic("orders", 3));
  CHECK(m->create_topic("orders", 3).error() == errc::topic_already_exists);
  CHECK(m->create_topic("", 1).error() == errc::invalid_topic);
  CHECK(m->create_topic(".", 1).error() == errc::invalid_topic);
  CHECK(m->create_topic("..", 1).error() == errc::invalid_topic);
  CHECK(m->create_topic("has space", 1).error() == errc::invalid_topic);
  CHECK(m->create_topic("slash/no", 1).error() == errc::invalid_topic);
  CHECK(m->create_topic(std::string(250, 'a'), 1).error() == errc::invalid_topic);
  CHECK(m->create_topic(std::string(249, 'a'), 1));
  CHECK(m->create_topic("a.b_c-D9", 1));
  CHECK(m->create_topic("zero", 0).error() == errc::invalid_partitions);
  CHECK(m->create_topic("negative", -1).error() == errc::invalid_partitions);

  auto t = m->find_topic("orders");
  REQUIRE(t);
  CHECK(t->partitions == 3);
  CHECK(t->id != topic_id{});
  CHECK_FALSE(m->find_topic("nope"));
  auto all = m->list_topics();
  REQUIRE(all.size() == 3);
  CHECK(all[0].name == "a.b_c-D9");
  CHECK(all[1].name == std::string(249, 'a'));
  CHECK(all[2].name == "orders");

  CHECK(m->state_of("orders", 2));
  CHECK(m->state_of("orders", 3).error() == errc::unknown_topic_or_partition);
  CHECK(m->state_of("orders", -1).error() == errc::unknown_topic_or_partition);
}

TEST_CASE("produce then fetch returns the same bytes with offsets assigned", "[engine][broker]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));

  auto first = make_batch({"a", "b", "c"});
  auto second = make_batch_records({{std::string("key"), "d", 0}, {std::nullopt, "e", 5}});
  auto p1 = produce_sync(*m, "t", 0, first);
  REQUIRE(p1.r);
  CHECK(p1.r->base_offset == 0);
  CHECK(p1.r->log_start_offset == 0);
  auto p2 = produce_sync(*m, "t", 0, second);
  REQUIRE(p2.r);
  CHECK(p2.r->base_offset == 3);

  // The engine rewrote only the base offset.
  auto expected_second = second;
  set_base_offset(expected_second, 3);
  CHECK(p1.bytes == first);
  CHECK(p2.bytes == expected_second);

  auto f = m->fetch("t", 0, 0, 1 << 20);
  REQUIRE(f);
  CHECK(f->high_watermark == 5);
  CHECK(f->log_start_offset == 0);
  REQUIRE(f->batches.size() == 2);
  CHECK(f->batches[0] == first);
  CHECK(f->batches[1] == expected_second);
  CHECK(f->bytes == first.size() + second.size());
  CHECK(validate_batches(concat(f->batches)));

  auto recs = decode_all(concat(f->batches));
  REQUIRE(recs.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(recs[static_cast<size_t>(i)].offset == i);
  CHECK(recs[3].key == "key");
  CHECK(recs[4].value == "e");

  SECTION("fetching inside a batch returns the whole batch") {
    auto g = m->fetch("t", 0, 4, 1 << 20);
    REQUIRE(g);
    REQUIRE(g->batches.size() == 1);
    CHECK(g->batches[0] == expected_second);
  }
  SECTION("max_bytes limits whole batches but always returns one") {
    auto g = m->fetch("t", 0, 0, 1);
    REQUIRE(g);
    REQUIRE(g->batches.size() == 1);
    CHECK(g->batches[0] == first);
    g = m->fetch("t", 0, 0, first.size() + second.size() - 1);
    REQUIRE(g);
    CHECK(g->batches.size() == 1);
  }
  SECTION("at the high watermark there is nothing; past it is out of range") {
    auto g = m->fetch("t", 0, 5, 1 << 20);
    REQUIRE(g);
    CHECK(g->batches.empty());
    CHECK(g->high_watermark == 5);
    CHECK(m->fetch("t", 0, 6, 1 << 20).error() == errc::offset_out_of_range);
    CHECK(m->fetch("t", 0, -1, 1 << 20).error() == errc::offset_out_of_range);
    CHECK(m->fetch("t", 1, 0, 1 << 20).error() == errc::unknown_topic_or_partition);
  }
}

TEST_CASE("several batches in one produce get consecutive offsets and one callback", "[engine][broker]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, make_batch({"x"})).r);

  std::vector<std::byte> set;
  append_to(set, make_batch({"a", "b"}));
  append_to(set, make_batch({"c"}));
  append_to(set, make_batch({"d", "e", "f"}));
  auto p = produce_sync(*m, "t", 0, set);
  REQUIRE(p.r);
  CHECK(p.r->base_offset == 1);
  CHECK(m->state_of("t", 0)->high_watermark == 7);
  auto recs = fetch_all(*m, "t", 0);
  REQUIRE(recs.size() == 7);
  for (int i = 0; i < 7; ++i) CHECK(recs[static_cast<size_t>(i)].offset == i);
  CHECK(recs[6].value == "f");
}

TEST_CASE("refused produces reach nothing of the log", "[engine][broker]") {
  config c = mem_config();
  c.max_message_bytes = 1000;
  auto m = open_mem(std::make_shared<wal::mem_file_system>(), c);
  REQUIRE(m->create_topic("t", 1));

  auto good = make_batch({"a"});
  auto bad = make_batch({"b"});
  bad.back() ^= std::byte{1};
  std::vector<std::byte> set;
  append_to(set, good);
  append_to(set, bad);

  CHECK(produce_sync(*m, "t", 0, set).r.error() == errc::corrupt_message);
  CHECK(produce_sync(*m, "t", 0, make_batch({std::string(1000, 'x')})).r.error() == errc::message_too_large);
  CHECK(produce_sync(*m, "t", 0, make_raw_batch({}, 0, 0, -1)).r.error() == errc::corrupt_message);
  CHECK(produce_sync(*m, "t", 0, {}).r.error() == errc::corrupt_message);
  auto v1 = good;
  v1[16] = std::byte{1};
  CHECK(produce_sync(*m, "t", 0, v1).r.error() == errc::unsupported_format);
  CHECK(produce_sync(*m, "t", 7, good).r.error() == errc::unknown_topic_or_partition);

  auto s = m->state_of("t", 0);
  CHECK(s->next_offset == 0);
  CHECK(s->high_watermark == 0);
  CHECK(m->wal().next_lsn() == 0);
  auto p = produce_sync(*m, "t", 0, good);
  REQUIRE(p.r);
  CHECK(p.r->base_offset == 0);
}

TEST_CASE("the high watermark moves only after the WAL completion", "[engine][broker]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  m->wal().set_policy(hold_policy());

  auto buf = std::make_shared<std::vector<std::byte>>(make_batch({"a", "b", "c"}));
  std::promise<result<produce_result>> done;
  auto fut = done.get_future();
  std::atomic<int> woken{0};
  auto h = m->wait_for_data("t", 0, 0, [&] { woken++; });
  REQUIRE(h);
  REQUIRE(h->log.lock());
  m->produce("t", 0, buf, *buf, [&](const result<produce_result>& r) { done.set_value(r); });

  CHECK(fut.wait_for(50ms) == std::future_status::timeout);
  auto s = m->state_of("t", 0);
  CHECK(s->next_offset == 3);
  CHECK(s->high_watermark == 0);
  auto f = m->fetch("t", 0, 0, 1 << 20);
  REQUIRE(f);
  CHECK(f->batches.empty());
  CHECK(m->fetch("t", 0, 1, 1 << 20).error() == errc::offset_out_of_range);
  CHECK(woken == 0);

  m->wal().set_policy(wal::flush_policy{});
  auto r = fut.get();
  REQUIRE(r);
  CHECK(r->base_offset == 0);
  CHECK(m->state_of("t", 0)->high_watermark == 3);
  CHECK(woken == 1);
  CHECK(m->fetch("t", 0, 0, 1 << 20)->batches.size() == 1);
}

TEST_CASE("offsets stay contiguous per partition across a restart", "[engine][broker]") {
  temp_dir dir;
  topic_id id{};
  {
    auto m = open_dir(dir.path());
    auto t = m->create_topic("events", 3, {{"retention.ms", "1000"}});
    REQUIRE(t);
    id = t->id;
    for (int round = 0; round < 4; ++round)
      for (int p = 0; p < 3; ++p) {
        auto r = produce_sync(
            *m, "events", p,
            make_batch({std::string("r").append(std::to_string(round)), std::string("p").append(std::to_string(p))}));
        REQUIRE(r.r);
        CHECK(r.r->base_offset == round * 2);
      }
  }
  auto m = open_dir(dir.path());
  auto t = m->find_topic("events");
  REQUIRE(t);
  CHECK(t->id == id);
  CHECK(t->partitions == 3);
  CHECK(t->configs == topic_configs{{"retention.ms", "1000"}});
  for (int p = 0; p < 3; ++p) {
    auto s = m->state_of("events", p);
    CHECK(s->high_watermark == 8);
    CHECK(s->next_offset == 8);
    auto r = produce_sync(*m, "events", p, make_batch({"after"}));
    REQUIRE(r.r);
    CHECK(r.r->base_offset == 8);
    auto recs = fetch_all(*m, "events", p);
    REQUIRE(recs.size() == 9);
    for (int i = 0; i < 9; ++i) CHECK(recs[static_cast<size_t>(i)].offset == i);
    CHECK(recs[6].value == "r3");
    CHECK(recs[7].value == std::string("p").append(std::to_string(p)));
    CHECK(recs[8].value == "after");
  }
  // And once more, with the records written after the first restart.
  m.reset();
  m = open_dir(dir.path());
  CHECK(m->state_of("events", 1)->high_watermark == 9);
  CHECK(fetch_all(*m, "events", 1, 8)[0].value == "after");
}

TEST_CASE("after a crash only synced produces survive, and offsets continue from them", "[engine][broker]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 1));
    REQUIRE(produce_sync(*m, "t", 0, make_batch({"durable"})).r);
    fs->fail_nth_sync(1);  // "lost" is written but never synced
    CHECK(produce_sync(*m, "t", 0, make_batch({"lost"})).r.error() == errc::storage_error);
    CHECK(m->state_of("t", 0)->high_watermark == 1);
  }
  fs->crash();
  auto m = open_mem(fs);
  auto recs = fetch_all(*m, "t", 0);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].value == "durable");
  CHECK(m->state_of("t", 0)->high_watermark == 1);
  auto r = produce_sync(*m, "t", 0, make_batch({"next"}));
  REQUIRE(r.r);
  CHECK(r.r->base_offset == 1);
  CHECK(fetch_all(*m, "t", 0)[1].value == "next");
}

TEST_CASE("a deleted topic's data does not come back, even under the same name", "[engine][broker]") {
  temp_dir dir;
  {
    auto m = open_dir(dir.path());
    REQUIRE(m->create_topic("t", 2));
    REQUIRE(produce_sync(*m, "t", 0, make_batch({"old-1", "old-2"})).r);
    REQUIRE(produce_sync(*m, "t", 1, make_batch({"old-3"})).r);

    std::atomic<int> woken{0};
    auto h = m->wait_for_data("t", 1, 1, [&] { woken++; });
    REQUIRE(h);
    REQUIRE(m->delete_topic("t"));
    CHECK(woken == 1);  // parked fetches learn at once
    CHECK(m->delete_topic("t").error() == errc::unknown_topic_or_partition);
    CHECK_FALSE(m->find_topic("t"));
    CHECK(m->fetch("t", 0, 0, 1000).error() == errc::unknown_topic_or_partition);

    auto again = m->create_topic("t", 1);
    REQUIRE(again);
    CHECK(m->state_of("t", 0)->high_watermark == 0);
    CHECK(m->fetch("t", 0, 0, 1000)->batches.empty());
    auto r = produce_sync(*m, "t", 0, make_batch({"new"}));
    REQUIRE(r.r);
    CHECK(r.r->base_offset == 0);
  }
  auto m = open_dir(dir.path());
  auto t = m->find_topic("t");
  REQUIRE(t);
  CHECK(t->partitions == 1);
  auto recs = fetch_all(*m, "t", 0);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].value == "new");
  CHECK(m->state_of("t", 0)->high_watermark == 1);
}

TEST_CASE("list_offsets finds the first batch at or after a timestamp", "[engine][broker]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 1));
  auto at = [](int64_t ts, int n) {
    batch_options o;
    o.base_timestamp = ts;
    std::vector<std::string> v(static_cast<size_t>(n), "x");
    return make_batch(v, o);
  };
  REQUIRE(produce_sync(*m, "t", 0, at(100, 2)).r);  // offsets 0-1, max ts 100
  REQUIRE(produce_sync(*m, "t", 0, at(300, 3)).r);  // offsets 2-4, max ts 300
  REQUIRE(produce_sync(*m, "t", 0, at(200, 1)).r);  // offset 5, max ts 200 (clock went back)
  REQUIRE(produce_sync(*m, "t", 0, at(400, 1)).r);  // offset 6, max ts 400

  auto q = [&](int64_t ts) { return *m->list_offsets("t", 0, ts); };
  CHECK(q(-2).offset == 0);
  CHECK(q(-1).offset == 7);
  CHECK(q(0).offset == 0);
  CHECK(q(0).timestamp == 100);
  CHECK(q(100).offset == 0);
  CHECK(q(101).offset == 2);
  CHECK(q(101).timestamp == 300);
  CHECK(q(250).offset == 2);
  CHECK(q(300).offset == 2);
  CHECK(q(301).offset == 6);
  CHECK(q(400).timestamp == 400);
  CHECK(q(401).offset == -1);
  CHECK(q(401).timestamp == -1);
  CHECK(m->list_offsets("nope", 0, -1).error() == errc::unknown_topic_or_partition);

  auto empty = m->create_topic("e", 1);
  REQUIRE(empty);
  CHECK(m->list_offsets("e", 0, 5)->offset == -1);
  CHECK(m->list_offsets("e", 0, -1)->offset == 0);
}

TEST_CASE("long-poll waiters fire on produce, once, and can be cancelled", "[engine][broker]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  REQUIRE(m->create_topic("t", 2));
  std::atomic<int> a{0}, b{0}, other{0};

  auto ha = m->wait_for_data("t", 0, 0, [&] { a++; });
  auto hb = m->wait_for_data("t", 0, 0, [&] { b++; });
  auto ho = m->wait_for_data("t", 1, 0, [&] { other++; });
  REQUIRE(ha);
  REQUIRE(hb);
  REQUIRE(ho);
  CHECK(log_manager::cancel_wait(*hb));
  CHECK_FALSE(log_manager::cancel_wait(*hb));

  REQUIRE(produce_sync(*m, "t", 0, make_batch({"x"})).r);
  CHECK(a == 1);
  CHECK(b == 0);
  CHECK(other == 0);
  CHECK_FALSE(log_manager::cancel_wait(*ha));  // it already ran
  REQUIRE(produce_sync(*m, "t", 0, make_batch({"y"})).r);
  CHECK(a == 1);  // one-shot

  // Data already past the offset: nothing registered, fetch instead.
  auto now = m->wait_for_data("t", 0, 1, [&] { a++; });
  REQUIRE(now);
  CHECK_FALSE(*now);
  auto at_hw = m->wait_for_data("t", 0, 2, [&] { a++; });
  REQUIRE(at_hw);
  CHECK(*at_hw);
  CHECK(log_manager::cancel_wait(*at_hw));
  CHECK(m->wait_for_data("nope", 0, 0, [] {}).error() == errc::unknown_topic_or_partition);

  // Closing wakes whoever is still parked.
  m->close();
  CHECK(other == 1);
  CHECK(produce_sync(*m, "t", 0, make_batch({"z"})).r.error() == errc::shutting_down);
  CHECK(m->wait_for_data("t", 0, 2, [] {}).error() == errc::shutting_down);
}

TEST_CASE("a produce in flight when its topic is deleted never shows up in the new topic", "[engine][broker]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = open_mem(fs);
    REQUIRE(m->create_topic("t", 1));
    m->wal().set_policy(hold_policy());
    auto buf = std::make_shared<std::vector<std::byte>>(make_batch({"in flight"}));
    std::promise<result<produce_result>> done;
    m->produce("t", 0, buf, *buf, [&](const result<produce_result>& r) { done.set_value(r); });
    REQUIRE(m->delete_topic("t"));
    REQUIRE(m->create_topic("t", 1));
    m->wal().set_policy(wal::flush_policy{});
    CHECK(done.get_future().get());  // it was accepted before the delete
    CHECK(m->state_of("t", 0)->high_watermark == 0);
    CHECK(fetch_all(*m, "t", 0).empty());
  }
  auto m = open_mem(fs);
  CHECK(m->state_of("t", 0)->high_watermark == 0);
}

TEST_CASE("ensure_topic is the one place unknown topics are created, only when auto-create is on", "[engine][broker]") {
  SECTION("on") {
    auto m = open_mem(std::make_shared<wal::mem_file_system>());
    // produce never creates (it must not block on the catalog's fsync): callers ensure first.
    CHECK(produce_sync(*m, "auto", 2, make_batch({"x"})).r.error() == errc::unknown_topic_or_partition);
    CHECK_FALSE(m->find_topic("auto"));
    REQUIRE(m->ensure_topic("auto"));
    CHECK(m->find_topic("auto")->partitions == 3);
    REQUIRE(produce_sync(*m, "auto", 2, make_batch({"x"})).r);
    CHECK(produce_sync(*m, "auto", 3, make_batch({"x"})).r.error() == errc::unknown_topic_or_partition);
    CHECK(m->ensure_topic("bad name").error() == errc::invalid_topic);
    CHECK(m->ensure_topic("auto")->partitions == 3);
    CHECK(m->ensure_topic("ensured"));
  }
  SECTION("off") {
    config c = mem_config();
    c.auto_create = false;
    auto m = open_mem(std::make_shared<wal::mem_file_system>(), c);
    CHECK(produce_sync(*m, "auto", 0, make_batch({"x"})).r.error() == errc::unknown_topic_or_partition);
    CHECK(m->ensure_topic("auto").error() == errc::unknown_topic_or_partition);
    CHECK_FALSE(m->find_topic("auto"));
  }
}

TEST_CASE("a WAL sync failure is a storage error and the high watermark stays", "[engine][broker]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  auto m = open_mem(fs);
  REQUIRE(m->create_topic("t", 1));
  REQUIRE(produce_sync(*m, "t", 0, make_batch({"ok"})).r);
  fs->fail_nth_sync(1);
  const auto failed = produce_sync(*m, "t", 0, make_batch({"fails"})).r;
  REQUIRE_FALSE(failed);
  CHECK(failed.error() == errc::storage_error);
  // The producer is told what failed, in the log's words (Kafka puts them in error_message).
  CHECK_THAT(failed.error().message(), Catch::Contains("fdatasync") && Catch::Contains(".wal"));
  CHECK(produce_sync(*m, "t", 0, make_batch({"sticky"})).r.error() == errc::storage_error);
  CHECK(m->state_of("t", 0)->high_watermark == 1);
  CHECK(fetch_all(*m, "t", 0).size() == 1);
}

TEST_CASE("a full WAL queue answers busy and gives the offsets back", "[engine][broker]") {
  config c = mem_config();
  c.wal.max_queue_bytes = 200;
  auto m = open_mem(std::make_shared<wal::mem_file_system>(), c);
  REQUIRE(m->create_topic("t", 1));
  m->wal().set_policy(hold_policy());

  auto first = std::make_shared<std::vector<std::byte>>(make_batch({std::string(100, 'a')}));
  std::promise<result<produce_result>> done;
  m->produce("t", 0, first, *first, [&](const result<produce_result>& r) { done.set_value(r); });
  CHECK(produce_sync(*m, "t", 0, make_batch({std::string(100, 'b')})).r.error() == errc::busy);
  CHECK(m->state_of("t", 0)->next_offset == 1);

  m->wal().set_policy(wal::flush_policy{});
  REQUIRE(done.get_future().get());
  auto r = produce_sync(*m, "t", 0, make_batch({"c"}));
  REQUIRE(r.r);
  CHECK(r.r->base_offset == 1);
  auto recs = fetch_all(*m, "t", 0);
  REQUIRE(recs.size() == 2);
  CHECK(recs[1].value == "c");
}

TEST_CASE("concurrent producers and fetchers see contiguous, ordered offsets", "[engine][broker][stress]") {
  auto m = open_mem(std::make_shared<wal::mem_file_system>());
  constexpr int partitions = 3, producers = 6, per_producer = 200;
  REQUIRE(m->create_topic("s", partitions));
  wal::flush_policy policy;
  policy.min_batches = 4;
  policy.linger = std::chrono::microseconds(200);
  m->wal().set_policy(policy);

  std::mutex mu;
  std::vector<std::vector<int64_t>> acked(partitions);  // in callback order
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::atomic<int> fetch_problems{0};  // Catch2 v2 assertions are not thread-safe: count, check later

  std::vector<std::thread> threads;
  for (int t = 0; t < producers; ++t)
    threads.emplace_back([&, t] {
      std::vector<std::future<void>> pending;
      for (int i = 0; i < per_producer; ++i) {
        const int p = (t + i) % partitions;
        auto buf = std::make_shared<std::vector<std::byte>>(make_batch({"v", "w"}));
        auto prom = std::make_shared<std::promise<void>>();
        pending.push_back(prom->get_future());
        m->produce("s", p, buf, *buf, [&, p, prom](const result<produce_result>& r) {
          if (!r) {
            failures++;
          } else {
            std::lock_guard lock(mu);
            acked[static_cast<size_t>(p)].push_back(r->base_offset);
          }
          prom->set_value();
        });
      }
      for (auto& f : pending) f.wait();
    });
  std::thread fetcher([&] {
    while (!stop) {
      for (int p = 0; p < partitions; ++p) {
        auto s = m->state_of("s", p);
        auto f = m->fetch("s", p, 0, 4096);
        if (!f || f->high_watermark < s->high_watermark) fetch_problems++;
        if (f && !f->batches.empty() && decode_all(concat(f->batches)).front().offset != 0) fetch_problems++;
      }
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  fetcher.join();

  CHECK(failures == 0);
  CHECK(fetch_problems == 0);
  int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    const auto& offs = acked[static_cast<size_t>(p)];
    for (size_t i = 0; i < offs.size(); ++i)
      CHECK(offs[i] == static_cast<int64_t>(2 * i));  // completions in offset order
    auto recs = fetch_all(*m, "s", p);
    CHECK(recs.size() == 2 * offs.size());
    for (size_t i = 0; i < recs.size(); ++i) CHECK(recs[i].offset == static_cast<int64_t>(i));
    CHECK(m->state_of("s", p)->high_watermark == static_cast<int64_t>(recs.size()));
    total += static_cast<int64_t>(recs.size());
  }
  CHECK(total == 2 * producers * per_producer);
}
