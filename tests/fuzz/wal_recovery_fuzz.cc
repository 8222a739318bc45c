// libFuzzer target for what a start does with whatever is on disk: the WAL's recovery (segment
// scan, torn-tail truncation, refusal of damaged sealed segments) and replay, alone or under the
// engine (log_manager::open: replay into partitions, and into the group and transaction
// coordinators through coordinator_service's loader, as server/app.cc wires them).
//
// Input: byte 0 is a set of flags, the rest is the WAL directory as `cat *.wal` would print it:
// it is split into files where the segment magic "KAIROWAL" begins (at most 8 files; bytes before
// the first magic are a file of their own). Each file is named after the first lsn its header
// names (bytes 12-19), or, when it is too short for that, after the lsn that follows the
// previous file's records.
//   0x01  engine mode: the files are /data/wal of a broker whose catalog is
//         kairo_fuzz::fixture_catalog(); log_manager::open, coordinators loaded and started,
//         every partition fetched from its start
//   0x02  repair lsns: each header's first lsn continues the previous file, records count up
//   0x04  repair CRCs: the header's and every framed record's CRC-32C recomputed (after 0x02)
//   0x08  WAL mode: after recovery, append a record and start again (two more threads per input,
//         so only for the inputs that ask)
//   0x10  WAL mode: segments preallocated (--wal-preallocate; 4 KiB first segments): the newest
//         segment is cut back and a segment of this run's own is opened, full of zeros
// The repairs let mutations of payloads, types and streams get past the checksums.
//
// Beyond not crashing, in WAL mode: a refusal is corrupt_segment or io_error, says why, and has
// changed no segment; an accepted directory replays lsns that count up by one from the first
// segment's, every record's bytes on disk pass their CRC independently of the scanner and match
// what replay handed out, next_lsn follows the last record, sealed segments are untouched and
// the newest only lost a tail; with 0x08, a record appended after recovery gets next_lsn, and
// reopening replays exactly the same records plus that one and changes nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "engine/broker.h"
#include "engine/errc.h"
#include "server/kafka/coordinator_service.h"
#include "tests/fuzz/fuzz_fixtures.h"
#include "tests/support/mem_file_system.h"
#include "util/crc32c.h"
#include "wal/errc.h"
#include "wal/format.h"
#include "wal/write_ahead_log.h"

namespace {

namespace F = wal::format;
using bytes = std::vector<std::byte>;

constexpr size_t max_files = 8;

std::vector<bytes> split_files(std::span<const std::byte> in) {
  std::vector<size_t> starts;
  if (!in.empty()) starts.push_back(0);
  for (size_t i = 1; i + sizeof F::segment_magic <= in.size() && starts.size() < max_files; ++i)
    if (in[i] == std::byte{'K'} && std::memcmp(in.data() + i, F::segment_magic, sizeof F::segment_magic) == 0)
      starts.push_back(i);
  std::vector<bytes> files;
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t end = k + 1 < starts.size() ? starts[k + 1] : in.size();
    files.emplace_back(in.begin() + static_cast<std::ptrdiff_t>(starts[k]),
                       in.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return files;
}

// Walks the records of a segment file by their length fields, as far as they fit.
template <class F_>
void for_each_framed(bytes& f, F_ visit) {
  size_t off = F::segment_header_size;
  while (f.size() >= off + F::record_header_size) {
    const uint32_t len = F::get_u32(f.data() + off + F::record_length_at);
    if (len > F::max_record_payload || f.size() - off - F::record_header_size < len) return;
    visit(f.data() + off, len);
    off += F::record_header_size + len;
  }
}

void repair(std::vector<bytes>& files, bool lsns, bool crcs) {
  uint64_t next = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    auto& f = files[i];
    if (f.size() < F::segment_crc_at) continue;  // too short to name its first lsn
    if (lsns && i > 0) F::put_u64(f.data() + F::segment_first_lsn_at, next);
    next = F::get_u64(f.data() + F::segment_first_lsn_at);
    for_each_framed(f, [&](std::byte* r, uint32_t len) {
      if (lsns) F::put_u64(r + F::record_lsn_at, next);
      ++next;
      if (crcs)
        F::put_u32(r + F::record_crc_at, util::crc32c::value(r + F::record_crc_covered_from,
                                                             F::record_header_size - F::record_crc_covered_from + len));
    });
    if (crcs && f.size() >= F::segment_header_size)
      F::put_u32(f.data() + F::segment_crc_at, util::crc32c::value(f.data(), F::segment_crc_at));
  }
}

// Names the files and writes them into `dir`; returns name -> contents of what was written.
// A file too short to name its first lsn is named where the previous one's records end, as a
// segment created by a roll whose header never reached the disk would be.
std::map<std::string, bytes> install(wal::mem_file_system& fs, const std::string& dir, std::vector<bytes> files) {
  std::map<std::string, bytes> written;
  uint64_t after_previous = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const uint64_t first =
        files[i].size() >= F::segment_crc_at ? F::get_u64(files[i].data() + F::segment_first_lsn_at) : after_previous;
    after_previous = first;
    for_each_framed(files[i], [&](std::byte*, uint32_t) { ++after_previous; });
    const std::string name = F::segment_name(first);
    if (written.count(name)) continue;  // two files cannot have one name; the first stays
    fs.set_contents(dir + "/" + name, files[i]);
    written.emplace(name, files[i]);
  }
  return written;
}

struct replayed {
  uint64_t lsn;
  wal::position pos;
  uint8_t type;
  uint32_t stream;
  bytes payload;
  friend bool operator==(const replayed&, const replayed&) = default;
};

std::vector<replayed> replay_all(const wal::write_ahead_log& w) {
  std::vector<replayed> out;
  auto r = w.replay([&](const wal::record_view& v) {
    out.push_back({v.lsn, v.pos, v.type, v.stream, bytes(v.payload.begin(), v.payload.end())});
  });
  if (!r) std::abort();  // recovery just verified these segments
  return out;
}

// The segment files (a spare being zero-filled beside them is not part of the log).
std::map<std::string, bytes> snapshot(wal::mem_file_system& fs, const std::string& dir) {
  std::map<std::string, bytes> out;
  auto names = fs.list(dir);
  if (!names) std::abort();
  for (auto& n : *names)
    if (F::parse_segment_name(n)) out[n] = fs.contents(dir + "/" + n);
  return out;
}

bool all_zero(const bytes& b, size_t from = 0) {
  return std::all_of(b.begin() + static_cast<std::ptrdiff_t>(std::min(from, b.size())), b.end(),
                     [](std::byte x) { return x == std::byte{0}; });
}

// A segment as a run opens it: its header, then (preallocated) nothing but zeros.
bool fresh_segment(const std::string& name, const bytes& content) {
  std::byte header[F::segment_header_size];
  F::encode_segment_header(header, F::parse_segment_name(name).value());
  return content.size() >= F::segment_header_size &&
         std::equal(std::begin(header), std::end(header), content.begin()) && all_zero(content, F::segment_header_size);
}

bool is_prefix(const bytes& a, const bytes& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// The record at v.pos, read from the file's bytes and checked without the scanner.
void check_on_disk(const std::map<std::string, bytes>& files, const replayed& v) {
  auto it = files.find(F::segment_name(v.pos.segment));
  if (it == files.end()) std::abort();
  const bytes& f = it->second;
  if (v.pos.offset < F::segment_header_size || f.size() < v.pos.offset + F::record_header_size) std::abort();
  const std::byte* r = f.data() + v.pos.offset;
  const uint32_t len = F::get_u32(r + F::record_length_at);
  if (len != v.payload.size() || f.size() - v.pos.offset - F::record_header_size < len) std::abort();
  if (util::crc32c::value(r + F::record_crc_covered_from, F::record_header_size - F::record_crc_covered_from + len) !=
      F::get_u32(r + F::record_crc_at))
    std::abort();
  if (F::get_u64(r + F::record_lsn_at) != v.lsn || std::to_integer<uint8_t>(r[F::record_type_at]) != v.type ||
      F::get_u32(r + F::record_stream_at) != v.stream)
    std::abort();
  if (len > 0 && std::memcmp(r + F::record_header_size, v.payload.data(), len) != 0) std::abort();
}

void wal_mode(const std::vector<bytes>& files, bool append_and_reopen, bool preallocate) {
  auto fs = std::make_shared<wal::mem_file_system>();
  const std::string dir = kairo_fuzz::wal_dir;
  const auto original = install(*fs, dir, files);
  wal::options opts;
  opts.dir = dir;
  opts.preallocate = preallocate;
  opts.first_segment_bytes = 4096;

  auto w = wal::write_ahead_log::open(opts, fs);
  if (!w) {
    if (w.error() != wal::errc::corrupt_segment && w.error() != wal::errc::io_error) std::abort();
    // A refusal always says what was wrong, in more words than its code's.
    if (w.error().message() == w.error().code().message()) std::abort();
    if (snapshot(*fs, dir) != original) std::abort();  // a refused start changes nothing
    return;
  }
  const auto recovered = replay_all(**w);
  const auto after = snapshot(*fs, dir);

  // Segment files: sealed ones untouched, the newest cut back to a prefix or (headerless, or
  // preallocating with no record) gone, and one new segment when none was left, or always when
  // preallocating.
  const std::string newest = original.empty() ? std::string() : original.rbegin()->first;
  for (auto& [name, content] : original) {
    auto it = after.find(name);
    if (name != newest) {
      if (it == after.end() || it->second != content) std::abort();
    } else if (it != after.end() && !is_prefix(it->second, content)) {
      // A newest segment that held no record is removed, and when it was the only one (or
      // preallocating, always) replaced by a fresh one of the same name.
      const bool headerless = content.size() < F::segment_header_size || all_zero(content);
      if (!(headerless || preallocate) || !fresh_segment(name, it->second)) std::abort();
    }
  }
  size_t created = 0;
  for (auto& [name, content] : after)
    if (!original.count(name)) {
      ++created;
      if (!fresh_segment(name, content)) std::abort();
    }
  if (created > 1) std::abort();

  // Records: consecutive lsns, each one good on disk.
  const uint64_t first = F::parse_segment_name(after.empty() ? F::segment_name(0) : after.begin()->first).value();
  uint64_t expect = first;
  for (auto& v : recovered) {
    if (v.lsn != expect) std::abort();
    check_on_disk(after, v);
    ++expect;
  }
  if ((*w)->next_lsn() != expect) std::abort();
  if (!append_and_reopen) return;

  // A record appended after recovery, then a second start over the same directory.
  static const bytes extra = {std::byte{'k'}, std::byte{'a'}, std::byte{'i'}, std::byte{'r'}, std::byte{'o'}};
  std::promise<wal::result<wal::appended>> done;
  if (!(*w)->append(7, 1, wal::payload{nullptr, extra},
                    [&](const wal::result<wal::appended>& r) { done.set_value(r); }))
    std::abort();  // a healthy, empty queue takes it
  const auto appended = done.get_future().get();
  if (!appended || appended->lsn != expect) std::abort();
  w->reset();

  const auto before_reopen = snapshot(*fs, dir);
  auto again = wal::write_ahead_log::open(opts, fs);
  if (!again) std::abort();
  auto replayed_again = replay_all(**again);
  if (replayed_again.size() != recovered.size() + 1 || replayed_again.back().lsn != expect ||
      replayed_again.back().payload != extra)
    std::abort();
  replayed_again.pop_back();
  if (replayed_again != recovered) std::abort();
  if (!preallocate) {
    if (snapshot(*fs, dir) != before_reopen) std::abort();
    return;
  }
  // Preallocating, the second start cuts the first one's segment back to its records and opens
  // its own; every other segment is as it was.
  const auto reopened = snapshot(*fs, dir);
  const std::string last = F::segment_name(appended->pos.segment);
  for (auto& [name, content] : before_reopen) {
    auto it = reopened.find(name);
    if (it == reopened.end()) std::abort();
    if (name == last ? !is_prefix(it->second, content) : it->second != content) std::abort();
  }
  if (reopened.size() != before_reopen.size() + 1) std::abort();
}

void engine_mode(const std::vector<bytes>& files) {
  static const bytes catalog = engine::encode_catalog(kairo_fuzz::fixture_catalog());
  auto fs = std::make_shared<wal::mem_file_system>();
  fs->set_contents(kairo_fuzz::fixture_catalog_path(), catalog);
  install(*fs, kairo_fuzz::wal_dir, files);

  engine::config cfg;
  cfg.data_dir = kairo_fuzz::data_dir;
  cfg.wal.preallocate = (files.size() % 2) == 1;  // both modes, small segments
  cfg.wal.first_segment_bytes = 4096;
  cfg.now_ms = [] { return int64_t{1'700'000'000'000}; };
  server::kafka::coordinator_service coordinators(engine::group_config{}, engine::txn_config{});
  auto opened = engine::log_manager::open(cfg, fs, coordinators.loader());
  if (!opened) {
    if (opened.error() != engine::errc::storage_error) std::abort();
    return;
  }
  auto& eng = **opened;
  coordinators.start(eng);
  for (const auto& t : eng.list_topics()) {
    for (int32_t p = 0; p < t.partitions; ++p) {
      auto st = eng.state_of(t.name, p);
      if (!st || st->high_watermark < st->log_start_offset || st->last_stable_offset > st->high_watermark) std::abort();
      for (bool committed : {false, true}) {
        auto got = eng.fetch(t.name, p, st->log_start_offset, 1 << 20, committed);
        if (!got && got.error() != engine::errc::offset_out_of_range) std::abort();
      }
    }
  }
  coordinators.stop();
  opened->reset();  // closes the WAL while the coordinators' executor still exists
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // recovery logs every truncation it makes
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  auto files = split_files(std::span(reinterpret_cast<const std::byte*>(data) + 1, size - 1));
  repair(files, flags & 0x02, flags & 0x04);
  if (flags & 0x01) engine_mode(files);
  else wal_mode(files, flags & 0x08, flags & 0x10);
  return 0;
}
