// Failed writes and syncs are sticky and reach every waiter; a crash keeps exactly what was synced.
// Every test runs in both modes of the log.
#include <catch2/catch.hpp>

#include "tests/wal/test_util.h"
#include "wal/errc.h"
#include "wal/mem_file_system.h"

using namespace wal;
using namespace wal::test;
using namespace std::chrono_literals;

namespace {

struct outcome_log {
  std::mutex mu;
  std::vector<result<appended>> results;
  std::condition_variable cv;
  completion make() {
    return [this](const result<appended>& r) {
      std::lock_guard lock(mu);
      results.push_back(r);
      cv.notify_all();
    };
  }
  void wait_for(size_t n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return results.size() >= n; });
  }
};

// A log that holds appends until told, so that a group's composition is known.
std::unique_ptr<write_ahead_log> held_log(std::shared_ptr<mem_file_system> fs, bool overlap) {
  auto o = mem_options(overlap);
  o.policy.min_batches = 1000;
  o.policy.linger = 1h;
  return *write_ahead_log::open(o, std::move(fs));
}

void release(write_ahead_log& w) {
  auto p = w.policy();
  p.min_batches = 1;
  p.linger = 0ms;
  w.set_policy(p);
}

}  // namespace

TEST_CASE("a failed sync fails every waiter of the group and every later append", "[wal][fault]") {
  const bool overlap = GENERATE(false, true);
  CAPTURE(overlap);
  auto fs = std::make_shared<mem_file_system>();
  auto w = held_log(fs, overlap);
  REQUIRE(fs->syncs() == 1);  // the new segment's header
  fs->fail_nth_sync(1);
  outcome_log out;
  for (int i = 0; i < 5; ++i) w->append(0, 1, make_payload("doomed"), out.make());
  release(*w);
  out.wait_for(5);
  for (auto& r : out.results) {
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::sync_failed);
  }
  CHECK_THAT(w->failure(), Catch::Contains("fdatasync") && Catch::Contains(".wal"));
  auto later = append_sync(*w, 0, "later");
  REQUIRE_FALSE(later);
  CHECK(later.error() == errc::sync_failed);
}

TEST_CASE("a failed write is sticky too, and names the write", "[wal][fault]") {
  const bool overlap = GENERATE(false, true);
  CAPTURE(overlap);
  auto fs = std::make_shared<mem_file_system>();
  auto w = held_log(fs, overlap);
  fs->fail_nth_write(1);
  outcome_log out;
  for (int i = 0; i < 3; ++i) w->append(0, 1, make_payload("w"), out.make());
  release(*w);
  out.wait_for(3);
  for (auto& r : out.results) CHECK(r.error() == errc::write_failed);
  CHECK_THAT(w->failure(), Catch::Contains("write of"));
  CHECK(append_sync(*w, 0, "x").error() == errc::write_failed);
}

TEST_CASE("records queued behind a failing group fail as well, none is acknowledged", "[wal][fault]") {
  const bool overlap = GENERATE(false, true);
  CAPTURE(overlap);
  auto fs = std::make_shared<mem_file_system>();
  auto o = mem_options(overlap);
  o.policy.max_group_records = 2;
  o.policy.min_batches = 1000;
  o.policy.linger = 1h;
  auto w = *write_ahead_log::open(o, fs);
  fs->fail_nth_sync(1);
  outcome_log out;
  for (int i = 0; i < 6; ++i) w->append(0, 1, make_payload("q"), out.make());
  release(*w);
  out.wait_for(6);
  for (auto& r : out.results) CHECK_FALSE(r);
}

TEST_CASE("after a crash, reopen returns exactly the acknowledged records", "[wal][fault]") {
  const bool overlap = GENERATE(false, true);
  CAPTURE(overlap);
  auto fs = std::make_shared<mem_file_system>();
  std::vector<std::string> acked;
  {
    auto w = *write_ahead_log::open(mem_options(overlap), fs);
    for (int i = 0; i < 10; ++i) {
      auto s = "ok-" + std::to_string(i);
      REQUIRE(append_sync(*w, 0, s));
      acked.push_back(s);
    }
    // The write of the next group lands in the page cache, its sync fails: never acknowledged.
    fs->fail_nth_sync(1);
    CHECK_FALSE(append_sync(*w, 0, "written-not-synced"));
  }
  fs->crash();
  auto w = write_ahead_log::open(mem_options(overlap), fs);
  REQUIRE(w);
  CHECK(replay_all(**w) == acked);
}

TEST_CASE("a torn write followed by a crash loses only the unacknowledged group", "[wal][fault]") {
  const bool overlap = GENERATE(false, true);
  CAPTURE(overlap);
  auto fs = std::make_shared<mem_file_system>();
  std::vector<std::string> acked;
  {
    auto w = *write_ahead_log::open(mem_options(overlap), fs);
    for (int i = 0; i < 3; ++i) {
      acked.push_back("acked-" + std::to_string(i));
      REQUIRE(append_sync(*w, 0, acked.back()));
    }
    fs->tear_nth_write(1, 11);
    auto torn = append_sync(*w, 0, "this one tears halfway through");
    REQUIRE_FALSE(torn);
    CHECK(torn.error() == errc::write_failed);
  }
  // Even without a crash the torn bytes are on "disk": recovery must cut them.
  auto w = write_ahead_log::open(mem_options(overlap), fs);
  REQUIRE(w);
  CHECK(replay_all(**w) == acked);
}
