// Reopen, torn tails, bad checksums, bad lengths and sealed-segment corruption, with logs
// written in both modes.
#include <catch2/catch.hpp>

#include "tests/support/mem_file_system.h"
#include "tests/wal/test_util.h"
#include "util/endian.h"
#include "wal/errc.h"
#include "wal/format.h"

using namespace wal;
using namespace wal::test;

namespace {

const std::string first_segment = "/wal/" + format::segment_name(0);

std::shared_ptr<mem_file_system> log_with(const std::vector<std::string>& records, options o) {
  auto fs = segment_faults_fs();
  auto w = write_ahead_log::open(o, fs);
  REQUIRE(w);
  for (size_t i = 0; i < records.size(); ++i) REQUIRE(append_sync(**w, static_cast<uint32_t>(i % 3), records[i]));
  return fs;
}

std::vector<std::string> sample(size_t n) {
  std::vector<std::string> v;
  for (size_t i = 0; i < n; ++i) v.push_back("record-" + std::to_string(i) + std::string(i % 5, 'x'));
  return v;
}

}  // namespace

TEST_CASE("records round-trip through close and reopen with stream, type and lsn", "[wal][recovery]") {
  auto recs = sample(20);
  auto fs = log_with(recs, mem_options());
  auto w = write_ahead_log::open(mem_options(), fs);
  REQUIRE(w);
  std::vector<record_view> seen;
  std::vector<std::string> payloads;
  REQUIRE((*w)->replay([&](const record_view& v) {
    seen.push_back(v);
    payloads.push_back(to_string(v.payload));
    auto again = (*w)->read_verified(v.pos);
    REQUIRE(again);
    CHECK(to_string(*again) == to_string(v.payload));
  }));
  CHECK(payloads == recs);
  for (size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].lsn == i);
    CHECK(seen[i].stream == i % 3);
    CHECK(seen[i].type == 1);
  }
  CHECK((*w)->next_lsn() == 20);
  // New appends continue the lsn sequence after recovery.
  auto a = append_sync(**w, 0, "after");
  REQUIRE(a);
  CHECK(a->lsn == 20);
}

TEST_CASE("a torn tail is truncated at every byte of the last record", "[wal][recovery]") {
  auto recs = sample(5);
  auto fs = log_with(recs, mem_options());
  const auto full = written_part(fs->contents(first_segment));
  const size_t last_size = format::record_header_size + recs.back().size();
  const size_t last_start = full.size() - last_size;
  for (size_t cut = last_start; cut < full.size(); ++cut) {
    CAPTURE(cut);
    auto crashed = segment_faults_fs();
    crashed->set_contents(first_segment, std::vector<std::byte>(full.begin(), full.begin() + static_cast<long>(cut)));
    auto w = write_ahead_log::open(mem_options(), crashed);
    REQUIRE(w);
    CHECK(replay_all(**w) == std::vector<std::string>(recs.begin(), recs.end() - 1));
    CHECK(crashed->contents(first_segment).size() == last_start);
    auto a = append_sync(**w, 0, "new");
    REQUIRE(a);
    CHECK(a->lsn == 4);  // the torn record's lsn is reused: it was never acknowledged
  }
}

TEST_CASE("a segment whose header never completed is removed", "[wal][recovery]") {
  auto fs = segment_faults_fs();
  fs->set_contents(first_segment, std::vector<std::byte>(10, std::byte{'K'}));
  auto w = write_ahead_log::open(mem_options(), fs);
  REQUIRE(w);
  CHECK(replay_all(**w).empty());
  CHECK(append_sync(**w, 0, "x"));
}

TEST_CASE("a bad checksum or bad length in the newest segment truncates the tail there", "[wal][recovery]") {
  auto recs = sample(6);
  auto fs = log_with(recs, mem_options());
  auto bytes = fs->contents(first_segment);
  // Offset of record 3: header + sizes of records 0..2.
  size_t off = format::segment_header_size;
  for (int i = 0; i < 3; ++i) off += format::record_header_size + recs[static_cast<size_t>(i)].size();

  SECTION("payload byte flipped") { bytes[off + format::record_header_size] ^= std::byte{0x40}; }
  SECTION("length made huge") { util::le::put_u32(bytes.data() + off + 4, 0x7fffffff); }
  SECTION("length off by one") { util::le::put_u32(bytes.data() + off + 4, static_cast<uint32_t>(recs[3].size() + 1)); }
  auto damaged = segment_faults_fs();
  damaged->set_contents(first_segment, bytes);
  auto w = write_ahead_log::open(mem_options(), damaged);
  REQUIRE(w);
  CHECK(replay_all(**w) == std::vector<std::string>(recs.begin(), recs.begin() + 3));
  CHECK(damaged->contents(first_segment).size() == off);
}

TEST_CASE("segments roll at the configured size and are named by their first lsn", "[wal][recovery]") {
  auto o = mem_options();
  o.segment_bytes = 200;
  auto recs = sample(30);
  auto fs = log_with(recs, o);
  auto names = fs->list("/wal");
  REQUIRE(names);
  CHECK(names->size() > 3);
  auto w = write_ahead_log::open(o, fs);
  REQUIRE(w);
  std::vector<std::string> got;
  REQUIRE((*w)->replay([&](const record_view& v) {
    got.push_back(to_string(v.payload));
    // Every record lives in the segment named by the first lsn at or below its own.
    CHECK(v.pos.segment <= v.lsn);
    CHECK(std::find(names->begin(), names->end(), format::segment_name(v.pos.segment)) != names->end());
  }));
  CHECK(got == recs);
}

TEST_CASE("corruption inside a sealed segment is an error naming the segment and position", "[wal][recovery]") {
  auto o = mem_options();
  o.segment_bytes = 200;
  auto fs = log_with(sample(30), o);
  auto bytes = fs->contents(first_segment);
  const size_t off = format::segment_header_size + format::record_header_size + 2;
  bytes[off] ^= std::byte{1};
  fs->set_contents(first_segment, bytes);
  auto w = write_ahead_log::open(o, fs);
  REQUIRE_FALSE(w);
  CHECK(w.error() == errc::corrupt_segment);
  CHECK_THAT(w.error().message(),
             Catch::Contains(format::segment_name(0)) && Catch::Contains("byte 24") && Catch::Contains("checksum"));
  // Nothing was truncated: the operator decides what to do with a damaged sealed segment.
  CHECK(fs->contents(first_segment) == bytes);
}

TEST_CASE("a missing middle segment is reported, not skipped", "[wal][recovery]") {
  auto o = mem_options();
  o.segment_bytes = 200;
  auto fs = log_with(sample(30), o);
  auto names = *fs->list("/wal");
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() >= 3);
  REQUIRE(fs->remove("/wal/" + names[1]));
  auto w = write_ahead_log::open(o, fs);
  REQUIRE_FALSE(w);
  CHECK_THAT(w.error().message(), Catch::Contains(names[2]) && Catch::Contains("missing"));
  CHECK(w.error() == errc::corrupt_segment);
}

TEST_CASE("replay reports its progress through the segments, ending at the total", "[wal][recovery]") {
  auto o = mem_options();
  o.segment_bytes = 64 << 10;  // several segments
  auto recs = sample(10000);
  auto fs = log_with(recs, o);
  auto w = write_ahead_log::open(o, fs);
  REQUIRE(w);
  size_t visited = 0;
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  REQUIRE((*w)->replay([&](const record_view&) { ++visited; },
                       [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); },
                       std::chrono::nanoseconds(0)));
  CHECK(visited == recs.size());
  REQUIRE(calls.size() == recs.size() / 4096 + 1);  // every 4096 records, and once at the end
  for (size_t i = 0; i < calls.size(); ++i) {
    INFO("call " << i << ": " << calls[i].first << " of " << calls[i].second);
    CHECK(calls[i].second == calls.back().second);
    CHECK(calls[i].first <= calls[i].second);
    if (i > 0) CHECK(calls[i].first > calls[i - 1].first);
  }
  CHECK(calls.back().first == calls.back().second);
  CHECK(calls.back().second > 10000u * 7);  // at least the payloads
}
