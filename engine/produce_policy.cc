#include "engine/produce_policy.h"

namespace engine {

using namespace std::chrono_literals;

std::string_view to_string(profile p) {
  switch (p) {
    case profile::low_latency: return "low-latency";
    case profile::balanced: return "balanced";
    case profile::high_throughput: return "high-throughput";
    case profile::auto_tuned: return "auto";
    case profile::custom: return "custom";
  }
  return "unknown";
}

std::optional<profile> parse_profile(std::string_view s) {
  if (s == "low-latency") return profile::low_latency;
  if (s == "balanced") return profile::balanced;
  if (s == "high-throughput") return profile::high_throughput;
  if (s == "auto") return profile::auto_tuned;
  if (s == "custom") return profile::custom;
  return std::nullopt;
}

produce_policy profile_policy(profile p) {
  switch (p) {
    case profile::balanced: return {10, 100ms, 32u << 20};
    case profile::high_throughput: return {100, 500ms, 128u << 20};
    case profile::low_latency:
    case profile::auto_tuned:
    case profile::custom: break;
  }
  return {1, 10ms, wal::default_buffer_bytes};
}

}  // namespace engine
