// commit_scope: an appender that finds the log idle commits its group itself, on its own thread,
// by the same policy and with the same guarantees (one sync per group, log-order completions,
// sticky failure, the failed group cut off) as the sync thread.
#include <catch2/catch.hpp>

#include <atomic>
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

// Where and how a record's completion ran.
struct ran {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::thread::id> threads;
  std::vector<result<appended>> results;
  completion make() {
    return [this](const result<appended>& r) {
      std::lock_guard lock(mu);
      threads.push_back(std::this_thread::get_id());
      results.push_back(r);
      cv.notify_all();
    };
  }
  size_t count() {
    std::lock_guard lock(mu);
    return results.size();
  }
  void wait_for(size_t n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return results.size() >= n; });
  }
};

}  // namespace

TEST_CASE("an appender that finds the log idle commits its group on its own thread", "[wal][group_commit]") {
  auto fs = std::make_shared<sync_tracking_file_system>();
  auto o = mem_options();
  o.appender_commit_after_idle = 0s;  // the rounds follow each other at once
  ran out;                            // outlives the log
  std::vector<group_stats> groups;
  auto w = *write_ahead_log::open(o, fs);
  w->set_observer([&](const group_stats& g) { groups.push_back(g); });
  for (int round = 0; round < 3; ++round) {
    write_ahead_log::commit_scope scope(*w);
    REQUIRE(w->append(0, 1, make_payload("a" + std::to_string(round)), out.make()));
    REQUIRE(w->append(1, 1, make_payload("b" + std::to_string(round)), out.make()));
    CHECK(out.count() == 2u * round);  // nothing is committed before commit()
    REQUIRE(scope.commit());
    // Back from commit(): written, synced, completed, here.
    REQUIRE(out.count() == 2u * round + 2);
  }
  for (auto& t : out.threads) CHECK(t == std::this_thread::get_id());
  for (auto& r : out.results) {
    REQUIRE(r);
    CHECK(fs->covers("/wal", *r));
  }
  REQUIRE(groups.size() == 3);  // one group per scope: both records of a round in one sync
  for (auto& g : groups) CHECK(g.records == 2);
  CHECK(replay_all(*w) == std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"});
}

TEST_CASE("a scope leaves the group to the sync thread when the policy waits or it does not commit",
          "[wal][group_commit]") {
  ran out;  // outlives the log: completions may still run until it closes
  auto o = mem_options();
  o.policy.min_batches = 2;
  o.policy.linger = 1h;
  o.appender_commit_after_idle = 0s;
  auto w = *write_ahead_log::open(o, std::make_shared<mem_file_system>());
  {
    write_ahead_log::commit_scope outer(*w);
    write_ahead_log::commit_scope inner(*w);  // nested: does nothing
    REQUIRE(w->append(0, 1, make_payload("one"), out.make()));
    REQUIRE(w->append(0, 1, make_payload("two"), out.make()));
    CHECK_FALSE(inner.commit());
    CHECK(out.count() == 0);
    CHECK(outer.commit());  // two records: min_batches holds, and the log is idle
    CHECK(out.count() == 2);
  }
  {
    write_ahead_log::commit_scope scope(*w);
    REQUIRE(w->append(0, 1, make_payload("three"), out.make()));
    CHECK_FALSE(scope.commit());  // one record of the two min_batches asks for: the policy waits
  }
  CHECK(out.count() == 2);
  {
    write_ahead_log::commit_scope scope(*w);
    REQUIRE(w->append(0, 1, make_payload("four"), out.make()));
  }  // ended without commit(): the sync thread is woken, and cuts
  out.wait_for(4);
  CHECK(out.threads[0] == std::this_thread::get_id());
  CHECK(out.threads[1] == std::this_thread::get_id());
  CHECK(out.threads[2] != std::this_thread::get_id());
  CHECK(out.threads[3] != std::this_thread::get_id());
  CHECK(replay_all(*w) == std::vector<std::string>{"one", "two", "three", "four"});
}

TEST_CASE("an appender commits only once the log has been idle for appender_commit_after_idle", "[wal][group_commit]") {
  auto o = mem_options();
  o.appender_commit_after_idle = 1h;  // never idle long enough
  ran out;                            // outlives the log
  auto w = *write_ahead_log::open(o, std::make_shared<mem_file_system>());
  write_ahead_log::commit_scope scope(*w);
  REQUIRE(w->append(0, 1, make_payload("x"), out.make()));
  CHECK_FALSE(scope.commit());  // the sync thread was woken instead
  out.wait_for(1);
  CHECK(out.threads.front() != std::this_thread::get_id());
}

TEST_CASE("a sync that fails under an appender's commit is sticky and its group is cut off",
          "[wal][group_commit][fault]") {
  auto fs = segment_faults_fs();
  auto o = mem_options();
  o.appender_commit_after_idle = 0s;  // right after "kept"
  {
    ran out;  // outlives the log
    auto w = *write_ahead_log::open(o, fs);
    REQUIRE(append_sync(*w, 0, "kept"));
    while (!w->idle()) std::this_thread::yield();  // the sync thread is done with "kept"'s group
    fs->fail_nth_sync(1);                          // the next segment sync: the scope's group
    {
      write_ahead_log::commit_scope scope(*w);
      REQUIRE(w->append(0, 1, make_payload("doomed-1"), out.make()));
      REQUIRE(w->append(0, 1, make_payload("doomed-2"), out.make()));
      REQUIRE(scope.commit());
    }
    REQUIRE(out.count() == 2);
    for (size_t i = 0; i < 2; ++i) {
      REQUIRE_FALSE(out.results[i]);
      CHECK(out.results[i].error() == errc::sync_failed);
      CHECK(out.threads[i] == std::this_thread::get_id());
    }
    CHECK(w->cut_back_done());
    write_ahead_log::commit_scope scope(*w);
    auto later = w->append(0, 1, make_payload("later"), out.make());
    REQUIRE_FALSE(later);
    CHECK(later.error() == errc::sync_failed);
    CHECK_FALSE(scope.commit());
  }
  fs->crash();
  auto w = *write_ahead_log::open(o, fs);
  CHECK(replay_all(*w) == std::vector<std::string>{"kept"});
}

TEST_CASE("appenders committing beside the sync thread: every record once, in log order, durable",
          "[wal][group_commit][stress]") {
  auto fs = std::make_shared<sync_tracking_file_system>();
  auto o = mem_options();
  o.segment_bytes = 64 << 10;         // several rolls, some inside an appender's commit
  o.appender_commit_after_idle = 0s;  // appenders and the sync thread race for every group
  std::set<std::string> expected;
  std::atomic<int> committed_here{0};
  {
    auto w = *write_ahead_log::open(o, fs);
    constexpr int threads = 8, per_thread = 600;
    std::atomic<int> not_durable{0}, out_of_order{0}, failed{0};
    std::atomic<uint64_t> next_lsn{0};  // completions run one group at a time, whoever commits
    std::atomic<size_t> left{threads * per_thread};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < per_thread;) {
          // Even threads commit through scopes of one to three records; odd ones only append.
          std::optional<write_ahead_log::commit_scope> scope;
          if (t % 2 == 0) scope.emplace(*w);
          const int n = std::min(per_thread - i, 1 + i % 3);
          std::atomic<int> mine{n};
          for (int k = 0; k < n; ++k, ++i) {
            auto q = w->append(static_cast<uint32_t>(t), 1, make_payload(std::to_string(t) + "/" + std::to_string(i)),
                               [&](const result<appended>& r) {
                                 if (!r) failed++;
                                 if (r && !fs->covers("/wal", *r)) not_durable++;
                                 if (r && r->lsn != next_lsn.fetch_add(1, std::memory_order_relaxed)) out_of_order++;
                                 mine--;
                                 left--;
                               });
            if (!q) {
              failed++;
              mine--;
              left--;
            }
          }
          if (scope && scope->commit()) committed_here++;
          while (mine.load() > 0) std::this_thread::yield();  // one request in flight, as a client
        }
      });
    for (int t = 0; t < threads; ++t)
      for (int i = 0; i < per_thread; ++i) expected.insert(std::to_string(t) + "/" + std::to_string(i));
    for (auto& t : ts) t.join();
    CHECK(left == 0);
    CHECK(failed == 0);
    CHECK(not_durable == 0);
    CHECK(out_of_order == 0);
  }
  CHECK(committed_here > 0);
  auto w = *write_ahead_log::open(o, fs);
  auto got = replay_all(*w);
  CHECK(got.size() == expected.size());
  CHECK(std::set<std::string>(got.begin(), got.end()) == expected);
}
