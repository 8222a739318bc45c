#pragma once
// When the sync thread cuts a group. This is the one batching decision point of the produce path
// (docs/architecture.md): profiles and the tuner only ever change this value. Header-only and
// std-only, so the tuner (a pure library) can use the type without linking the WAL.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace wal {

// The bytes a group gathers by default, and the most `auto` ever waits for: the tuner's cap on
// the buffer it sets and the memory budget the produce path keeps under auto are both this.
inline constexpr uint64_t default_buffer_bytes = 16u << 20;

// The one batching policy type of the project: the WAL cuts by it, the engine's profiles are
// values of it, the tuner proposes it and the admin API shows and sets it.
struct flush_policy {
  uint32_t min_batches = 1;                      // cut once this many records are pending...
  std::chrono::nanoseconds linger{0};            // ...or the oldest pending record has waited this long...
  uint64_t buffer_bytes = default_buffer_bytes;  // ...or this many bytes are pending.
  friend bool operator==(const flush_policy&, const flush_policy&) = default;
};

// How large one group may grow whatever the policy says: bounds the write buffer and the time
// one write() takes. WAL configuration, not batching policy: nothing tunes it.
struct group_caps {
  uint32_t max_records = 8192;                // a group never takes more records than this
  uint64_t max_bytes = default_buffer_bytes;  // nor more bytes (a single larger record goes alone)
};

enum class flush_reason : uint8_t { min_batches, linger, buffer, shutdown };
inline constexpr int flush_reason_count = 4;

constexpr std::string_view to_string(flush_reason r) {
  switch (r) {
    case flush_reason::min_batches: return "min_batches";
    case flush_reason::linger: return "linger";
    case flush_reason::buffer: return "buffer";
    case flush_reason::shutdown: return "shutdown";
  }
  return "unknown";
}

}  // namespace wal

namespace wal {

// What is pending when the sync thread is free to cut.
struct pending_state {
  size_t records = 0;
  uint64_t bytes = 0;
  std::chrono::nanoseconds oldest_age{0};
};

// Whether to cut a group now, and why. Each rule is one line; the first that holds names the reason.
constexpr std::optional<flush_reason> should_cut(const pending_state& p, const flush_policy& policy) {
  if (p.records == 0) return std::nullopt;                                // nothing to write
  if (p.records >= policy.min_batches) return flush_reason::min_batches;  // enough batches gathered
  if (p.bytes >= policy.buffer_bytes) return flush_reason::buffer;        // enough bytes gathered
  if (p.oldest_age >= policy.linger) return flush_reason::linger;         // the oldest waited long enough
  return std::nullopt;
}

}  // namespace wal
