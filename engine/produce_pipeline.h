#pragma once
// Layer 1 of the produce path, as state: which profile is active, its policy, and the memory
// budget that makes produce wait instead of growing memory. The batching itself happens at the
// WAL's single decision point (wal::should_cut), which this class keeps in step with the policy.
// Thread-safe: the admin API, the tuner and the io threads call it concurrently.
#include <algorithm>
#include <mutex>
#include <string>

#include "engine/broker.h"
#include "engine/memory_budget.h"
#include "engine/produce_policy.h"

namespace engine {

class produce_pipeline {
 public:
  struct state {
    profile active = profile::low_latency;
    produce_policy policy;
    uint64_t changes = 0;     // how many times the policy was set
    std::string last_reason;  // why the current policy was set, in words
  };

  produce_pipeline(log_manager& log, profile p, produce_policy policy);

  // Applies at the WAL's next cut; the memory budget follows the buffer (see budget_for).
  void set_policy(profile p, const produce_policy& policy, std::string reason);
  state current() const;

  memory_budget& budget() { return budget_; }
  // Produce data admitted but not answered may reach twice the buffer: one buffer gathering while
  // the previous one is written and synced. Past that, produce waits. Under auto the tuner sets the
  // buffer to the bytes of one cohort as a cut rule, so memory is bounded by auto's cap instead.
  static uint64_t budget_for(profile p, const produce_policy& pol) {
    return 2 * (p == profile::auto_tuned ? std::max(pol.buffer_bytes, wal::default_buffer_bytes) : pol.buffer_bytes);
  }

 private:
  void apply();  // REQUIRES: mu_ held

  log_manager& log_;
  memory_budget budget_;
  mutable std::mutex mu_;
  state state_;  // guarded by mu_
};

}  // namespace engine
