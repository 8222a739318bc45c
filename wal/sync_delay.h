#pragma once
// EXPERIMENT ONLY: the delay wal::delaying_file_system adds after every fdatasync, so that a fast
// disk can stand in for cloud block storage or a spinning disk. Std-only, for configuration code.
#include <chrono>

namespace wal {

struct simulated_sync_delay {
  std::chrono::nanoseconds mean{0};
  double jitter = 0.0;  // uniform in [mean*(1-jitter), mean*(1+jitter)]
  bool enabled() const { return mean.count() > 0; }
  friend bool operator==(const simulated_sync_delay&, const simulated_sync_delay&) = default;
};

}  // namespace wal
