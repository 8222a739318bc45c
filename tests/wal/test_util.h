#pragma once
// Helpers shared by the WAL tests: payload construction and waiting for completions.
#include <condition_variable>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <vector>

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

// An in-memory log in /wal with the default policy.
inline options mem_options() {
  options o;
  o.dir = "/wal";
  return o;
}

}  // namespace wal::test
