#pragma once
// Helpers shared by the WAL tests: payload construction and waiting for completions.
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/mem_file_system.h"
#include "wal/format.h"
#include "wal/write_ahead_log.h"

namespace wal::test {

inline payload make_payload(const std::string& s) {
  auto buf = std::make_shared<std::vector<std::byte>>(s.size());
  std::memcpy(buf->data(), s.data(), s.size());
  return payload{buf, std::span<const std::byte>(*buf)};
}

inline std::string to_string(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Appends and blocks until the record's completion ran.
inline result<appended> append_sync(write_ahead_log& w, uint32_t stream, const std::string& s) {
  std::promise<result<appended>> p;
  auto f = p.get_future();
  if (auto queued = w.append(stream, 1, make_payload(s), [&p](const result<appended>& r) { p.set_value(r); }); !queued)
    return fail(queued.error());  // refused at once: the completion never runs
  return f.get();
}

inline std::vector<std::string> replay_all(const write_ahead_log& w) {
  std::vector<std::string> out;
  auto r = w.replay([&](const record_view& v) { out.push_back(to_string(v.payload)); });
  if (!r) throw std::runtime_error("replay failed: " + r.error().message());
  return out;
}

// An in-memory log in /wal with the default policy. Segments are preallocated, as in
// production, but small, so that a test's memory stays small.
inline options mem_options() {
  options o;
  o.dir = "/wal";
  o.preallocate = true;  // the mode with more to get wrong; wal_recovery_fuzz covers both
  o.first_segment_bytes = 16 << 10;
  return o;
}

inline bool is_segment(const std::string& path) {
  return format::parse_segment_name(path.substr(path.rfind('/') + 1)).has_value();
}

// A fault-injecting file system whose faults and counts aim at the log's segments only: the
// background fill of a spare segment would otherwise make "the Nth sync" a race.
inline std::shared_ptr<mem_file_system> segment_faults_fs() {
  auto fs = std::make_shared<mem_file_system>();
  fs->count_only(is_segment);
  return fs;
}

// The segments in `dir`, without the spare being filled beside them.
inline std::vector<std::string> segment_files(file_system& fs, const std::string& dir) {
  std::vector<std::string> out;
  const auto names = fs.list(dir);
  for (auto& n : *names)
    if (is_segment(n)) out.push_back(n);
  std::sort(out.begin(), out.end());
  return out;
}

// A segment's bytes up to its last written one: a preallocated segment's zeros cut off.
inline std::vector<std::byte> written_part(std::vector<std::byte> bytes) {
  while (!bytes.empty() && bytes.back() == std::byte{0}) bytes.pop_back();
  return bytes;
}

}  // namespace wal::test
