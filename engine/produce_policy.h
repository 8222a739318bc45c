#pragma once
// The produce pipeline's batching policy: the three static profiles of the brief, `auto`, and
// explicit overrides. The policy is applied as the WAL's flush_policy, which is the pipeline's
// one decision point (docs/architecture.md).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wal/flush_policy.h"

namespace engine {

enum class profile { low_latency, balanced, high_throughput, auto_tuned, custom };

std::string_view to_string(profile p);
// "low-latency", "balanced", "high-throughput", "auto" (also "custom" for explicit policies).
std::optional<profile> parse_profile(std::string_view s);

struct produce_policy {
  uint32_t min_batches = 1;
  std::chrono::nanoseconds linger{std::chrono::milliseconds(10)};
  uint64_t buffer_bytes = 16u << 20;
  friend bool operator==(const produce_policy&, const produce_policy&) = default;
};

// The static table (BRIEF.md): low-latency 1/10 ms/16 MiB, balanced 10/100 ms/32 MiB,
// high-throughput 100/500 ms/128 MiB. auto starts from low-latency.
produce_policy profile_policy(profile p);

// The WAL flush policy for a produce policy, keeping the WAL-only fields (group caps, simulated
// sync delay) of `base`.
wal::flush_policy to_flush_policy(const produce_policy& p, wal::flush_policy base);

}  // namespace engine
