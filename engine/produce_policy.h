#pragma once
// The produce pipeline's batching policy: the three static profiles of the brief, `auto`, and
// explicit overrides. A produce policy IS the WAL's flush_policy (one type from the WAL's cut
// rule to the tuner and the admin API), applied at the pipeline's one decision point
// (docs/architecture.md).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wal/flush_policy.h"
#include "wal/sync_delay.h"

namespace engine {

enum class profile { low_latency, balanced, high_throughput, auto_tuned, custom };

std::string_view to_string(profile p);
// "low-latency", "balanced", "high-throughput", "auto" (also "custom" for explicit policies).
std::optional<profile> parse_profile(std::string_view s);

using produce_policy = wal::flush_policy;
// Why a group was cut, for the metrics (the WAL's reasons).
using wal::flush_reason;
using wal::flush_reason_count;
using wal::to_string;
// EXPERIMENT ONLY: what log_manager::set_sync_delay adds after every fdatasync.
using wal::simulated_sync_delay;

// The static table: low-latency 1/10 ms/16 MiB, balanced 10/100 ms/32 MiB, high-throughput
// 100/500 ms/128 MiB. auto starts from low-latency.
produce_policy profile_policy(profile p);

}  // namespace engine
