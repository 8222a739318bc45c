// Preallocated segments: the log writes over zeros it synced beforehand, recovery finds the true
// end of such a segment, stale bytes past it never come back as records, and a spare that
// cannot be made leaves a plain segment that works as before.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tests/support/mem_file_system.h"
#include "tests/wal/test_util.h"
#include "wal/errc.h"
#include "wal/format.h"

using namespace wal;
using namespace wal::test;
using namespace std::chrono_literals;

namespace {

const std::string spare = "/wal/spare.wal-preallocated";
std::string segment(uint64_t first_lsn) { return "/wal/" + format::segment_name(first_lsn); }

bool exists(mem_file_system& fs, const std::string& path) {
  const auto names = fs.list("/wal");
  return std::find(names->begin(), names->end(), path.substr(5)) != names->end();
}

void wait_for_spare(mem_file_system& fs) {
  for (int i = 0; i < 5000 && !exists(fs, spare); ++i) std::this_thread::sleep_for(1ms);
  REQUIRE(exists(fs, spare));
}

// The framed bytes of one record, as the log writes it.
std::vector<std::byte> framed(const std::string& payload, uint64_t lsn) {
  std::vector<std::byte> r(format::record_header_size + payload.size());
  std::memcpy(r.data() + format::record_header_size, payload.data(), payload.size());
  format::seal_record(r.data(), static_cast<uint32_t>(payload.size()), 1, 0, lsn);
  return r;
}

}  // namespace

TEST_CASE("a segment is zero-filled to its size before the log writes records over it", "[wal][prealloc]") {
  auto fs = segment_faults_fs();
  auto o = mem_options();
  auto w = *write_ahead_log::open(o, fs);
  const auto before = fs->contents(segment(0));
  CHECK(before.size() == o.first_segment_bytes);  // full size from the start: writes never grow it
  for (int i = 0; i < 5; ++i) REQUIRE(append_sync(*w, 0, "r" + std::to_string(i)));
  const auto after = fs->contents(segment(0));
  CHECK(after.size() == o.first_segment_bytes);
  const size_t used = format::segment_header_size + 5 * (format::record_header_size + 2);
  CHECK(written_part(after).size() == used);
  // The next segment is being made meanwhile, twice the size, under a name of its own.
  wait_for_spare(*fs);
  CHECK(fs->contents(spare).size() == 2 * o.first_segment_bytes);
  CHECK(written_part(fs->contents(spare)).empty());
}

TEST_CASE("segments grow from the first size to segment_bytes, each one preallocated", "[wal][prealloc]") {
  auto o = mem_options();
  o.first_segment_bytes = 1024;
  o.segment_bytes = 8192;
  auto fs = segment_faults_fs();
  std::vector<std::string> recs;
  {
    auto w = *write_ahead_log::open(o, fs);
    for (int i = 0; i < 300; ++i) {
      recs.push_back("record-" + std::to_string(i) + std::string(40, 'p'));
      REQUIRE(append_sync(*w, 0, recs.back()));
    }
  }
  std::vector<size_t> sizes;
  for (auto& n : segment_files(*fs, "/wal")) sizes.push_back(fs->contents("/wal/" + n).size());
  REQUIRE(sizes.size() >= 4);
  CHECK(sizes[0] == 1024);
  CHECK(sizes[1] == 2048);
  CHECK(sizes[2] == 4096);
  for (size_t i = 3; i + 1 < sizes.size(); ++i) CHECK(sizes[i] == 8192);  // capped
  auto w = *write_ahead_log::open(o, fs);
  CHECK(replay_all(*w) == recs);
}

TEST_CASE("recovery ends a preallocated segment at its last record and the next run writes a new one",
          "[wal][prealloc][recovery]") {
  auto fs = segment_faults_fs();
  std::vector<std::string> recs = {"one", "two", "three"};
  {
    auto w = *write_ahead_log::open(mem_options(), fs);
    for (auto& r : recs) REQUIRE(append_sync(*w, 0, r));
  }
  auto w = *write_ahead_log::open(mem_options(), fs);
  CHECK(replay_all(*w) == recs);
  // The zeros after the last record are cut off: a sealed segment holds records only.
  const size_t used = format::segment_header_size + 3 * format::record_header_size + 3 + 3 + 5;
  CHECK(fs->contents(segment(0)).size() == used);
  auto a = append_sync(*w, 0, "four");
  REQUIRE(a);
  CHECK(a->lsn == 3);
  CHECK(a->pos.segment == 3);  // in a segment of this run, named by its first lsn
  w->close();
  w = *write_ahead_log::open(mem_options(), fs);
  CHECK(replay_all(*w) == std::vector<std::string>{"one", "two", "three", "four"});
}

TEST_CASE("a run that wrote nothing leaves no empty segment behind", "[wal][prealloc][recovery]") {
  auto fs = segment_faults_fs();
  for (int run = 0; run < 3; ++run) {
    auto w = *write_ahead_log::open(mem_options(), fs);
    CHECK(replay_all(*w).empty());
  }
  CHECK(segment_files(*fs, "/wal") == std::vector<std::string>{format::segment_name(0)});
}

TEST_CASE("a spare left by the last run becomes the next run's first segment", "[wal][prealloc]") {
  auto fs = segment_faults_fs();
  auto o = mem_options();
  {
    auto w = *write_ahead_log::open(o, fs);
    REQUIRE(append_sync(*w, 0, "a"));
    wait_for_spare(*fs);
  }
  auto w = *write_ahead_log::open(o, fs);
  // Taken, not zero-filled again: the new segment has the spare's size, twice the first.
  CHECK(fs->contents(segment(1)).size() == 2 * o.first_segment_bytes);
  REQUIRE(append_sync(*w, 0, "b"));
  w->close();
  w = *write_ahead_log::open(o, fs);
  CHECK(replay_all(*w) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a spare whose fill a crash cut short is removed at recovery", "[wal][prealloc][recovery]") {
  auto fs = segment_faults_fs();
  fs->set_contents(spare + ".tmp", std::vector<std::byte>(100));
  auto o = mem_options();
  auto w = *write_ahead_log::open(o, fs);
  // The preallocator starts a fill of its own under the same name at once; once that one is done
  // and renamed, nothing of the leftover is left, and the spare is whole.
  wait_for_spare(*fs);
  CHECK_FALSE(exists(*fs, spare + ".tmp"));
  CHECK(fs->contents(spare).size() == 2 * o.first_segment_bytes);
  REQUIRE(append_sync(*w, 0, "x"));
}

TEST_CASE("a segment whose header was never written (all zeros) is removed", "[wal][prealloc][recovery]") {
  auto fs = segment_faults_fs();
  fs->set_contents(segment(0), std::vector<std::byte>(4096));
  auto w = *write_ahead_log::open(mem_options(), fs);
  CHECK(replay_all(*w).empty());
  REQUIRE(append_sync(*w, 0, "x"));
}

TEST_CASE("a record past a hole of zeros is a previous write's leftover, never taken", "[wal][prealloc][recovery]") {
  // A crash while a group was being written can leave later pages on the disk and an earlier
  // one not: zeros, then bytes of a record whose lsn is exactly the one expected next. The log
  // ends at the zeros, and the next run's writes go to a segment of their own, so the leftover
  // can come back neither now nor after the next crash.
  auto fs = segment_faults_fs();
  {
    auto w = *write_ahead_log::open(mem_options(), fs);
    REQUIRE(append_sync(*w, 0, "acked"));
  }
  auto bytes = fs->contents(segment(0));
  const size_t end = format::segment_header_size + format::record_header_size + 5;
  const auto stale = framed("stale", 1);
  const size_t hole = 4096;
  std::copy(stale.begin(), stale.end(), bytes.begin() + static_cast<long>(end + hole));
  fs->set_contents(segment(0), bytes);

  auto w = *write_ahead_log::open(mem_options(), fs);
  CHECK(replay_all(*w) == std::vector<std::string>{"acked"});
  CHECK(fs->contents(segment(0)).size() == end);  // the leftover is cut off with the zeros
  auto a = append_sync(*w, 0, "new");
  REQUIRE(a);
  CHECK(a->lsn == 1);
  w->close();
  fs->crash();
  w = *write_ahead_log::open(mem_options(), fs);
  CHECK(replay_all(*w) == std::vector<std::string>{"acked", "new"});
}

TEST_CASE("a torn tail inside a preallocated segment is cut at every byte of the last record",
          "[wal][prealloc][recovery]") {
  auto fs = segment_faults_fs();
  std::vector<std::string> recs = {"first", "second", "third-record"};
  {
    auto w = *write_ahead_log::open(mem_options(), fs);
    for (auto& r : recs) REQUIRE(append_sync(*w, 0, r));
  }
  const auto full = fs->contents(segment(0));  // preallocated: zeros after the records
  const size_t last_start = written_part(full).size() - (format::record_header_size + recs.back().size());
  for (size_t cut = last_start; cut < written_part(full).size(); ++cut) {
    CAPTURE(cut);
    auto crashed = segment_faults_fs();
    auto torn = full;
    std::fill(torn.begin() + static_cast<long>(cut), torn.end(), std::byte{0});  // the rest never landed
    crashed->set_contents(segment(0), torn);
    auto w = *write_ahead_log::open(mem_options(), crashed);
    CHECK(replay_all(*w) == std::vector<std::string>(recs.begin(), recs.end() - 1));
    CHECK(crashed->contents(segment(0)).size() == last_start);
    auto a = append_sync(*w, 0, "again");
    REQUIRE(a);
    CHECK(a->lsn == 2);
  }
}

TEST_CASE("a crash at any point of a run keeps exactly the acknowledged records", "[wal][prealloc][fault]") {
  auto o = mem_options();
  o.first_segment_bytes = 512;
  o.segment_bytes = 2048;  // rolls, spares taken and made, all during the run
  for (int crash_after : {0, 1, 7, 20, 45, 90}) {
    CAPTURE(crash_after);
    auto fs = segment_faults_fs();
    std::vector<std::string> acked;
    for (int run = 0; run < 3; ++run) {
      {
        auto w = *write_ahead_log::open(o, fs);
        REQUIRE(replay_all(*w) == acked);
        for (int i = 0; i < crash_after; ++i) {
          acked.push_back("run" + std::to_string(run) + "-" + std::to_string(i) + std::string(20, 'c'));
          REQUIRE(append_sync(*w, 0, acked.back()));
        }
        // Written, never synced: a crash takes it, and no later run may see it.
        fs->fail_nth_sync(1);
        CHECK_FALSE(append_sync(*w, 0, "lost"));
      }
      fs->crash();
    }
    auto w = *write_ahead_log::open(o, fs);
    CHECK(replay_all(*w) == acked);
  }
}

TEST_CASE("when a spare cannot be made, the log rolls to a plain segment and loses nothing", "[wal][prealloc][fault]") {
  auto fs = std::make_shared<mem_file_system>();
  // Faults aim at the spares' fills only. The first spare, made at open, syncs; the one made in
  // the background for the first roll does not (a disk too full for a segment of zeros).
  fs->count_only([](const std::string& p) { return p.find("spare") != std::string::npos; });
  fs->fail_nth_sync(2);
  auto o = mem_options();
  o.first_segment_bytes = 1024;
  std::vector<std::string> recs;
  {
    auto w = *write_ahead_log::open(o, fs);
    for (int i = 0; i < 60; ++i) {
      recs.push_back("plain-" + std::to_string(i) + std::string(30, 'q'));
      REQUIRE(append_sync(*w, 0, recs.back()));
    }
    REQUIRE(w->health());
  }
  const auto names = segment_files(*fs, "/wal");
  REQUIRE(names.size() == 2);
  const auto second = fs->contents("/wal/" + names[1]);
  CHECK(written_part(second).size() == second.size());  // grown by its writes: not preallocated
  CHECK_FALSE(exists(*fs, spare + ".tmp"));
  auto w = *write_ahead_log::open(o, fs);
  CHECK(replay_all(*w) == recs);
}
