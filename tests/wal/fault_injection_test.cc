// Failed writes and syncs are sticky and reach every waiter; the failed group is cut off the log;
// a crash keeps exactly what was synced.
#include <catch2/catch.hpp>

#include "tests/support/mem_file_system.h"
#include "tests/wal/test_util.h"
#include "wal/errc.h"

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
std::unique_ptr<write_ahead_log> held_log(std::shared_ptr<mem_file_system> fs) {
  auto o = mem_options();
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
  auto fs = segment_faults_fs();
  auto w = held_log(fs);
  REQUIRE(fs->syncs() == 1);  // the new segment's header
  fs->fail_nth_sync(1);
  outcome_log out;
  for (int i = 0; i < 5; ++i) REQUIRE(w->append(0, 1, make_payload("doomed"), out.make()));
  release(*w);
  out.wait_for(5);
  for (auto& r : out.results) {
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::sync_failed);
  }
  REQUIRE_FALSE(w->health());
  CHECK_THAT(w->health().error().message(), Catch::Contains("fdatasync") && Catch::Contains(".wal"));
  // Every refused record carries the same words as the log's health.
  CHECK(out.results.front().error().message() == w->health().error().message());
  auto later = append_sync(*w, 0, "later");
  REQUIRE_FALSE(later);
  CHECK(later.error() == errc::sync_failed);
}

TEST_CASE("a failed write is sticky too, and names the write", "[wal][fault]") {
  auto fs = segment_faults_fs();
  auto w = held_log(fs);
  fs->fail_nth_write(1);
  outcome_log out;
  for (int i = 0; i < 3; ++i) REQUIRE(w->append(0, 1, make_payload("w"), out.make()));
  release(*w);
  out.wait_for(3);
  for (auto& r : out.results) CHECK(r.error() == errc::write_failed);
  CHECK_THAT(w->health().error().message(), Catch::Contains("write of"));
  CHECK(append_sync(*w, 0, "x").error() == errc::write_failed);
}

TEST_CASE("records queued behind a failing group fail as well, none is acknowledged", "[wal][fault]") {
  auto fs = segment_faults_fs();
  auto o = mem_options();
  o.caps.max_records = 2;
  o.policy.min_batches = 1000;
  o.policy.linger = 1h;
  auto w = *write_ahead_log::open(o, fs);
  fs->fail_nth_sync(1);
  outcome_log out;
  for (int i = 0; i < 6; ++i) REQUIRE(w->append(0, 1, make_payload("q"), out.make()));
  release(*w);
  out.wait_for(6);
  for (auto& r : out.results) CHECK_FALSE(r);
}

TEST_CASE("after a crash, reopen returns exactly the acknowledged records", "[wal][fault]") {
  auto fs = segment_faults_fs();
  std::vector<std::string> acked;
  {
    auto w = *write_ahead_log::open(mem_options(), fs);
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
  auto w = write_ahead_log::open(mem_options(), fs);
  REQUIRE(w);
  CHECK(replay_all(**w) == acked);
}

TEST_CASE("a torn write followed by a crash loses only the unacknowledged group", "[wal][fault]") {
  auto fs = segment_faults_fs();
  std::vector<std::string> acked;
  {
    auto w = *write_ahead_log::open(mem_options(), fs);
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
  auto w = write_ahead_log::open(mem_options(), fs);
  REQUIRE(w);
  CHECK(replay_all(**w) == acked);
}

namespace {

// Opens a held log, acknowledges `acked` records, then queues `doomed` records as one group
// with the Nth sync (or write) after that point failing; returns the doomed results.
struct failed_group_run {
  std::shared_ptr<mem_file_system> fs = segment_faults_fs();
  std::vector<std::string> acked;
  std::vector<std::string> files_before;
  std::vector<result<appended>> doomed;
  std::string failure;
  bool cut = false;

  void run(const options& o, int n_acked, int n_doomed, const std::function<void(mem_file_system&)>& arm) {
    auto w = *write_ahead_log::open(o, fs);
    for (int i = 0; i < n_acked; ++i) {
      acked.push_back("acked-" + std::to_string(i) + std::string(30, 'a'));
      REQUIRE(append_sync(*w, 0, acked.back()));
    }
    files_before = segment_files(*fs, o.dir);
    auto held = o.policy;
    held.min_batches = 1000;
    held.linger = 1h;
    w->set_policy(held);
    arm(*fs);
    outcome_log out;
    for (int i = 0; i < n_doomed; ++i)
      REQUIRE(w->append(0, 1, make_payload("doomed-" + std::to_string(i) + std::string(30, 'd')), out.make()));
    release(*w);
    out.wait_for(static_cast<size_t>(n_doomed));
    doomed = out.results;
    if (auto h = w->health(); !h) failure = h.error().message();
    cut = w->cut_back_done();
  }
};

}  // namespace

TEST_CASE("a failed sync cuts its group off the log: without a crash, reopen finds only acknowledged records",
          "[wal][fault]") {
  // The failing group's bytes are in the page cache (the mem fs keeps them without a crash),
  // exactly what made records whose producers were told KAFKA_STORAGE_ERROR come back.
  failed_group_run t;
  t.run(mem_options(), 4, 5, [](mem_file_system& fs) { fs.fail_nth_sync(1); });
  for (auto& r : t.doomed) CHECK_FALSE(r);
  CHECK(t.cut);
  auto w = write_ahead_log::open(mem_options(), t.fs);
  REQUIRE(w);
  CHECK(replay_all(**w) == t.acked);
  CHECK((*w)->next_lsn() == t.acked.size());
  // The log goes on after the restart, the lsns continue where the acknowledged ones ended.
  REQUIRE(append_sync(**w, 0, "after restart"));
  auto all = replay_all(**w);
  CHECK(all.back() == "after restart");
}

TEST_CASE("a failed write that landed part of its group is cut back too", "[wal][fault]") {
  failed_group_run t;
  t.run(mem_options(), 3, 4, [](mem_file_system& fs) { fs.tear_nth_write(1, 70); });
  for (auto& r : t.doomed) CHECK(r.error() == errc::write_failed);
  CHECK(t.cut);
  auto w = write_ahead_log::open(mem_options(), t.fs);
  REQUIRE(w);
  CHECK(replay_all(**w) == t.acked);
}

TEST_CASE("a group that rolled to a new segment and then failed leaves neither segment holding it", "[wal][fault]") {
  auto o = mem_options();
  o.segment_bytes = 400;  // a few records per segment: the doomed group rolls
  for (int failing_sync : {1, 2, 3}) {
    // 1: the old segment's sync at the roll; 2: the new segment's header; 3: the group's sync.
    CAPTURE(failing_sync);
    failed_group_run t;
    t.run(o, 2, 8, [&](mem_file_system& fs) { fs.fail_nth_sync(static_cast<uint64_t>(failing_sync)); });
    for (auto& r : t.doomed) CHECK_FALSE(r);
    CHECK(t.cut);
    CHECK(segment_files(*t.fs, o.dir) == t.files_before);  // the segment the roll created is gone
    auto w = write_ahead_log::open(o, t.fs);
    REQUIRE(w);
    CHECK(replay_all(**w) == t.acked);
  }
}

TEST_CASE("if the cut itself fails, health() says that records may reappear", "[wal][fault]") {
  // A truncate cannot fail in the mem fs; the sync after it can, on a disk whose syncs all fail.
  failed_group_run t;
  t.run(mem_options(), 2, 3, [](mem_file_system& fs) { fs.fail_syncs_from_nth(1); });
  for (auto& r : t.doomed) CHECK_FALSE(r);
  CHECK_FALSE(t.cut);
  CHECK_THAT(t.failure, Catch::Contains("cutting the failed group off failed too"));
}
