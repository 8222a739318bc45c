// Overlap mode (options::overlap_write_and_sync): groups written while a sync runs wait for the
// next sync; a failure reaches every group not yet completed; a roll waits for the syncer.
// Syncs are held at a gate (sync_tracking_file_system) so that each scenario is deterministic.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "tests/wal/sync_tracking_file_system.h"
#include "tests/wal/test_util.h"
#include "wal/errc.h"

using namespace wal;
using namespace wal::test;
using namespace std::chrono_literals;

namespace {

// Completions as they arrive, with whether the record was durable at that moment.
struct outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<result<appended>> results;
  std::vector<bool> durable;
  sync_tracking_file_system* fs;
  explicit outcomes(sync_tracking_file_system* f) : fs(f) {}
  completion make() {
    return [this](const result<appended>& r) {
      const bool d = r && fs->covers("/wal", *r);
      std::lock_guard lock(mu);
      results.push_back(r);
      durable.push_back(d);
      cv.notify_all();
    };
  }
  void wait_for(size_t n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return results.size() >= n; });
  }
  size_t count() {
    std::lock_guard lock(mu);
    return results.size();
  }
};

struct observed {
  std::mutex mu;
  std::vector<group_stats> groups;
  void operator()(const group_stats& g) {
    std::lock_guard lock(mu);
    groups.push_back(g);
  }
};

template <class Pred>
void eventually(Pred pred) {
  for (int i = 0; i < 10000 && !pred(); ++i) std::this_thread::sleep_for(1ms);
  REQUIRE(pred());
}

// Opens an overlap-mode log, holds syncs, appends r0 and returns once its sync is held at the
// gate; then appends `more` records one by one, each written (its own group) while that sync
// is held. Groups 1..more began their write after the held sync began: it cannot cover them.
std::unique_ptr<write_ahead_log> written_during_held_sync(sync_tracking_file_system& fs, outcomes& out, int more,
                                                          options o = mem_options(true),
                                                          std::function<void(const group_stats&)> observer = {}) {
  auto w = *write_ahead_log::open(o, std::shared_ptr<file_system>(&fs, [](file_system*) {}));
  if (observer) w->set_observer(std::move(observer));
  fs.hold_syncs();
  const uint64_t writes = fs.mem().writes();
  w->append(0, 1, make_payload("r0"), out.make());
  fs.wait_until_held(1);
  for (int i = 1; i <= more; ++i) {
    std::string name = "r";  // (not "r" + ...: GCC 12 warns falsely on that, -Wrestrict)
    name += std::to_string(i);
    w->append(0, 1, make_payload(name), out.make());
    eventually([&] { return fs.mem().writes() == writes + 1 + static_cast<uint64_t>(i); });
  }
  CHECK(out.count() == 0);  // nothing completes while the only sync is held
  return w;
}

}  // namespace

TEST_CASE("overlap: groups written while a sync runs complete only after the next sync", "[wal][overlap]") {
  sync_tracking_file_system fs;
  outcomes out(&fs);
  observed obs;
  auto w = written_during_held_sync(fs, out, 2, mem_options(true), std::ref(obs));
  const uint64_t syncs = fs.mem().syncs();  // the held sync has not reached the disk yet
  fs.release_syncs();
  out.wait_for(3);
  for (size_t i = 0; i < 3; ++i) {
    REQUIRE(out.results[i]);
    CHECK(out.results[i]->lsn == i);  // log order
    CHECK(out.durable[i]);            // covered by a sync that began after its write
  }
  CHECK(fs.mem().syncs() - syncs == 2);  // the held one, then one for both groups written meanwhile
  w->close();
  std::lock_guard lock(obs.mu);
  REQUIRE(obs.groups.size() == 3);  // one group_stats per cut
  CHECK(obs.groups[0].groups_in_sync == 1);
  CHECK(obs.groups[1].groups_in_sync == 2);
  CHECK(obs.groups[2].groups_in_sync == 2);
  CHECK(obs.groups[1].wait_for_sync > 0ns);
}

TEST_CASE("overlap: a failing sync fails its groups and every group written while it ran", "[wal][overlap][fault]") {
  sync_tracking_file_system fs;
  outcomes out(&fs);
  auto w = written_during_held_sync(fs, out, 2);
  fs.mem().fail_nth_sync(1);  // the held one
  fs.release_syncs();
  out.wait_for(3);
  for (auto& r : out.results) {
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::sync_failed);
  }
  CHECK_THAT(w->failure(), Catch::Contains("fdatasync"));
  CHECK(append_sync(*w, 0, "later").error() == errc::sync_failed);
  w->close();
  // Written but never synced: after a power loss nothing is left, and nothing was acknowledged.
  fs.mem().crash();
  auto reopened = write_ahead_log::open(mem_options(true), std::shared_ptr<file_system>(&fs, [](file_system*) {}));
  REQUIRE(reopened);
  CHECK(replay_all(**reopened).empty());
}

TEST_CASE("overlap: a group whose sync succeeded completes even if the next sync fails", "[wal][overlap][fault]") {
  sync_tracking_file_system fs;
  outcomes out(&fs);
  auto w = written_during_held_sync(fs, out, 2);
  fs.mem().fail_nth_sync(2);  // the sync after the held one
  fs.release_syncs();
  out.wait_for(3);
  REQUIRE(out.results[0]);
  CHECK(out.durable[0]);
  for (size_t i = 1; i < 3; ++i) {
    REQUIRE_FALSE(out.results[i]);
    CHECK(out.results[i].error() == errc::sync_failed);
  }
}

TEST_CASE("overlap: a failed write fails the groups still waiting for their sync", "[wal][overlap][fault]") {
  sync_tracking_file_system fs;
  outcomes out(&fs);
  auto w = written_during_held_sync(fs, out, 0);
  fs.mem().fail_nth_write(1);
  w->append(0, 1, make_payload("r1"), out.make());
  eventually([&] { return !w->failure().empty(); });
  fs.release_syncs();  // the held sync succeeds, but the log has failed: r0 is not acknowledged
  out.wait_for(2);
  for (size_t i = 0; i < 2; ++i) {
    REQUIRE_FALSE(out.results[i]);
    CHECK(out.results[i].error() == errc::write_failed);
  }
}

TEST_CASE("overlap: at a segment roll the writer waits for the syncer, then syncs the old segment",
          "[wal][overlap]") {
  sync_tracking_file_system fs;
  outcomes out(&fs);
  auto o = mem_options(true);
  o.segment_bytes = format::segment_header_size + 3 * (format::record_header_size + 2);  // 3 records of "rN"
  auto w = written_during_held_sync(fs, out, 2, o);
  REQUIRE(fs.mem().list("/wal")->size() == 1);
  const uint64_t writes = fs.mem().writes();
  w->append(0, 1, make_payload("r3"), out.make());  // does not fit: a roll
  std::this_thread::sleep_for(20ms);
  CHECK(fs.mem().writes() == writes);  // the writer waits for the held sync before it rolls
  CHECK(fs.mem().list("/wal")->size() == 1);
  fs.release_syncs();
  out.wait_for(4);
  for (size_t i = 0; i < 4; ++i) {
    REQUIRE(out.results[i]);
    CHECK(out.results[i]->lsn == i);
    CHECK(out.durable[i]);
  }
  CHECK(out.results[3]->pos.segment == 3);
  CHECK(fs.mem().list("/wal")->size() == 2);
}

TEST_CASE("overlap: written but uncompleted groups count against max_queue_bytes", "[wal][overlap]") {
  sync_tracking_file_system fs;
  outcomes out(&fs);
  auto o = mem_options(true);
  o.max_queue_bytes = 2 * (format::record_header_size + 2);  // two records of "rN"
  auto w = written_during_held_sync(fs, out, 1, o);
  std::error_code refused;
  w->append(0, 1, make_payload("r2"), [&](const result<appended>& r) { refused = r.error(); });
  CHECK(refused == errc::queue_full);  // serial mode would take it: its queue is empty
  fs.release_syncs();
  out.wait_for(2);
  CHECK(out.results[0]);
  CHECK(out.results[1]);
  CHECK(append_sync(*w, 0, "r2"));  // completing them made room
}
