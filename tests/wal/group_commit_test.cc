// Group commit: grouping by policy, one sync per group, log-order completions, backpressure,
// many threads at once.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <set>
#include <thread>

#include "tests/support/mem_file_system.h"
#include "tests/wal/sync_tracking_file_system.h"
#include "tests/wal/test_util.h"
#include "wal/errc.h"

using namespace wal;
using namespace wal::test;
using namespace std::chrono_literals;

namespace {

struct observed {
  std::mutex mu;
  std::vector<group_stats> groups;
  void operator()(const group_stats& g) {
    std::lock_guard lock(mu);
    groups.push_back(g);
  }
  size_t records() {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (auto& g : groups) n += g.records;
    return n;
  }
  // One sync per group.
  uint64_t syncs() {
    std::lock_guard lock(mu);
    return groups.size();
  }
};

// Appends n records without waiting; returns a future that is ready when all completed.
struct batch_waiter {
  std::atomic<size_t> left;
  std::atomic<size_t> failed{0};
  std::promise<void> all;
  explicit batch_waiter(size_t n) : left(n) {}
  completion make() {
    return [this](const result<appended>& r) {
      if (!r) failed++;
      if (--left == 0) all.set_value();
    };
  }
};

}  // namespace

TEST_CASE("each group is synced exactly once and completions run in log order", "[wal][group_commit]") {
  auto fs = std::make_shared<sync_tracking_file_system>();
  auto o = mem_options();
  o.first_segment_bytes = 1 << 20;  // no roll in this run: a roll adds its own two syncs
  auto w = *write_ahead_log::open(o, fs);
  const uint64_t syncs_at_open = fs->mem().syncs();
  observed obs;
  w->set_observer(std::ref(obs));

  constexpr int threads = 8, per_thread = 500;
  std::mutex order_mu;
  std::vector<uint64_t> completion_order;
  std::atomic<int> not_durable{0};
  batch_waiter waiter(threads * per_thread);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto done = waiter.make();
        auto q = w->append(
            static_cast<uint32_t>(t), 1, make_payload(std::to_string(t) + ":" + std::to_string(i)),
            [&, done](const result<appended>& r) {
              REQUIRE(r);
              if (!fs->covers("/wal", *r)) not_durable++;
              {
                std::lock_guard lock(order_mu);
                completion_order.push_back(r->lsn);
              }
              done(r);
            },
            when_full::wait);
        if (!q) done(fail(q.error()));  // refused at once: counted as failed
      }
    });
  for (auto& t : ts) t.join();
  waiter.all.get_future().wait();
  w->close();

  REQUIRE(completion_order.size() == threads * per_thread);
  for (size_t i = 0; i < completion_order.size(); ++i) REQUIRE(completion_order[i] == i);
  CHECK(not_durable == 0);  // no completion before a sync that began after its record's write
  CHECK(obs.records() == threads * per_thread);
  // One fdatasync per group, none extra: the grouping is what makes the log fast.
  CHECK(fs->mem().syncs() - syncs_at_open == obs.syncs());
  CHECK(obs.groups.size() < completion_order.size());
}

TEST_CASE("min_batches holds a group until enough records are pending", "[wal][group_commit]") {
  auto o = mem_options();
  o.policy.min_batches = 5;
  o.policy.linger = 1h;
  auto w = *write_ahead_log::open(o, segment_faults_fs());
  observed obs;
  w->set_observer(std::ref(obs));
  batch_waiter waiter(12);
  for (int i = 0; i < 12; ++i) REQUIRE(w->append(0, 1, make_payload("r"), waiter.make()));
  // Each cut takes at least 5, so at most 4 can be left waiting for the hour-long linger: wait
  // for the rest, then let close flush the leftover with reason shutdown.
  while (waiter.left.load() > 4) std::this_thread::sleep_for(1ms);
  w->close();
  waiter.all.get_future().wait();
  CHECK(waiter.failed == 0);
  std::lock_guard lock(obs.mu);
  size_t total = 0;
  for (auto& g : obs.groups) {
    if (g.reason == flush_reason::shutdown) {
      CHECK(g.records < 5);
    } else {
      CHECK(g.reason == flush_reason::min_batches);
      CHECK(g.records >= 5);
    }
    total += g.records;
  }
  CHECK(total == 12);
}

TEST_CASE("linger cuts a group that never reaches min_batches", "[wal][group_commit]") {
  auto o = mem_options();
  o.policy.min_batches = 100;
  o.policy.linger = 5ms;
  auto w = *write_ahead_log::open(o, segment_faults_fs());
  observed obs;
  w->set_observer(std::ref(obs));
  REQUIRE(append_sync(*w, 0, "lonely"));
  std::lock_guard lock(obs.mu);
  REQUIRE(obs.groups.size() == 1);
  CHECK(obs.groups[0].reason == flush_reason::linger);
  CHECK(obs.groups[0].oldest_wait >= 5ms);
}

TEST_CASE("the buffer rule cuts on pending bytes", "[wal][group_commit]") {
  auto o = mem_options();
  o.policy.min_batches = 1000;
  o.policy.linger = 1h;
  o.policy.buffer_bytes = 100;
  auto w = *write_ahead_log::open(o, segment_faults_fs());
  observed obs;
  w->set_observer(std::ref(obs));
  REQUIRE(append_sync(*w, 0, std::string(200, 'b')));
  std::lock_guard lock(obs.mu);
  REQUIRE(obs.groups.size() == 1);
  CHECK(obs.groups[0].reason == flush_reason::buffer);
}

TEST_CASE("a policy change takes effect at the next cut", "[wal][group_commit]") {
  auto o = mem_options();
  o.policy.min_batches = 1000;
  o.policy.linger = 1h;
  auto w = *write_ahead_log::open(o, segment_faults_fs());
  batch_waiter waiter(3);
  for (int i = 0; i < 3; ++i) REQUIRE(w->append(0, 1, make_payload("held"), waiter.make()));
  auto all = waiter.all.get_future();
  CHECK(all.wait_for(50ms) == std::future_status::timeout);  // held by the policy, not lost
  auto p = w->policy();
  p.min_batches = 1;
  w->set_policy(p);
  all.wait();
  CHECK(waiter.failed == 0);
}

TEST_CASE("group caps bound records and bytes per group", "[wal][group_commit]") {
  auto o = mem_options();
  o.policy.min_batches = 50;
  o.policy.linger = 1h;
  o.caps.max_records = 7;
  auto w = *write_ahead_log::open(o, segment_faults_fs());
  observed obs;
  w->set_observer(std::ref(obs));
  batch_waiter waiter(50);
  for (int i = 0; i < 50; ++i) REQUIRE(w->append(0, 1, make_payload("c"), waiter.make()));
  auto p = w->policy();
  p.min_batches = 1;  // let the tail drain
  w->set_policy(p);
  waiter.all.get_future().wait();
  std::lock_guard lock(obs.mu);
  for (auto& g : obs.groups) CHECK(g.records <= 7);
}

TEST_CASE("the queue is bounded in bytes: fail reports queue_full, wait blocks", "[wal][group_commit]") {
  auto o = mem_options();
  o.max_queue_bytes = 1000;
  o.policy.min_batches = 1000;
  o.policy.linger = 1h;
  auto w = *write_ahead_log::open(o, segment_faults_fs());
  std::atomic<int> ok{0}, full{0};
  auto count = [&](const result<appended>& r) {
    if (r) ok++;
  };
  for (int i = 0; i < 20; ++i) {
    auto queued = w->append(0, 1, make_payload(std::string(100, 'q')), count);
    if (!queued && queued.error() == errc::queue_full) full++;  // refused at once, never completed
  }
  CHECK(full > 0);
  CHECK(w->queued_bytes() <= 1000);
  const int queued = 20 - full;

  std::atomic<bool> waited_done{false};
  std::thread blocked([&] {
    CHECK(w->append(
        0, 1, make_payload(std::string(100, 'w')),
        [&](const result<appended>& r) {
          CHECK(r);
          waited_done = true;
        },
        when_full::wait));
  });
  std::this_thread::sleep_for(20ms);
  CHECK_FALSE(waited_done);
  auto p = w->policy();
  p.min_batches = 1;
  w->set_policy(p);
  blocked.join();
  w->close();
  CHECK(waited_done);
  CHECK(ok == queued);
}

TEST_CASE("close flushes what is queued with reason shutdown, later appends are refused", "[wal][group_commit]") {
  auto fs = segment_faults_fs();
  auto o = mem_options();
  o.policy.min_batches = 1000;
  o.policy.linger = 1h;
  auto w = *write_ahead_log::open(o, fs);
  observed obs;
  w->set_observer(std::ref(obs));
  batch_waiter waiter(4);
  for (int i = 0; i < 4; ++i) REQUIRE(w->append(0, 1, make_payload("s"), waiter.make()));
  w->close();
  waiter.all.get_future().wait();
  CHECK(waiter.failed == 0);
  REQUIRE(obs.groups.size() == 1);
  CHECK(obs.groups[0].reason == flush_reason::shutdown);
  bool completed = false;
  auto late = w->append(0, 1, make_payload("late"), [&](const result<appended>&) { completed = true; });
  REQUIRE_FALSE(late);
  CHECK(late.error() == errc::closed);
  CHECK_FALSE(completed);  // a refusal is returned, never also completed
  auto reopened = write_ahead_log::open(o, fs);
  REQUIRE(reopened);
  CHECK(replay_all(**reopened).size() == 4);
}

TEST_CASE("many threads appending with durable acks all land, exactly once", "[wal][group_commit][stress]") {
  auto fs = std::make_shared<sync_tracking_file_system>();
  auto o = mem_options();
  o.segment_bytes = 64 << 10;    // several rolls during the run
  o.max_queue_bytes = 16 << 10;  // and appenders held back by the bound
  std::set<std::string> expected;
  {
    auto w = *write_ahead_log::open(o, fs);
    constexpr int threads = 16, per_thread = 1000;
    batch_waiter waiter(threads * per_thread);
    std::atomic<int> not_durable{0}, out_of_order{0};
    std::atomic<uint64_t> next_lsn{0};  // only the completing thread touches it
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          auto done = waiter.make();
          auto q = w->append(
              static_cast<uint32_t>(t), 1, make_payload(std::to_string(t) + "/" + std::to_string(i)),
              [&, done](const result<appended>& r) {
                if (r && !fs->covers("/wal", *r)) not_durable++;
                if (r && r->lsn != next_lsn.fetch_add(1, std::memory_order_relaxed)) out_of_order++;
                done(r);
              },
              when_full::wait);
          if (!q) done(fail(q.error()));
        }
      });
    for (int t = 0; t < threads; ++t)
      for (int i = 0; i < per_thread; ++i) expected.insert(std::to_string(t) + "/" + std::to_string(i));
    for (auto& t : ts) t.join();
    waiter.all.get_future().wait();
    CHECK(waiter.failed == 0);
    CHECK(not_durable == 0);
    CHECK(out_of_order == 0);
    CHECK(fs->mem().list("/wal")->size() > 3);
  }
  auto w = *write_ahead_log::open(o, fs);
  auto got = replay_all(*w);
  CHECK(got.size() == expected.size());
  CHECK(std::set<std::string>(got.begin(), got.end()) == expected);
}
