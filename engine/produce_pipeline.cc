#include "engine/produce_pipeline.h"

#include "engine/logger.h"

namespace engine {

produce_pipeline::produce_pipeline(wal::write_ahead_log& wal, profile p, produce_policy policy,
                                   wal::simulated_sync_delay delay)
    : wal_(wal), budget_(budget_for(p, policy)) {
  std::lock_guard lock(mu_);
  state_.active = p;
  state_.policy = policy;
  state_.sync_delay = delay;
  state_.last_reason = "configured at start";
  apply();
}

void produce_pipeline::set_policy(profile p, const produce_policy& policy, std::string reason) {
  std::lock_guard lock(mu_);
  state_.active = p;
  state_.policy = policy;
  state_.last_reason = std::move(reason);
  ++state_.changes;
  apply();
}

void produce_pipeline::set_sync_delay(const wal::simulated_sync_delay& d) {
  std::lock_guard lock(mu_);
  state_.sync_delay = d;
  apply();
}

produce_pipeline::state produce_pipeline::current() const {
  std::lock_guard lock(mu_);
  return state_;
}

void produce_pipeline::apply() {
  auto fp = to_flush_policy(state_.policy, wal_.policy());
  fp.sync_delay = state_.sync_delay;
  wal_.set_policy(fp);
  budget_.set_capacity(budget_for(state_.active, state_.policy));
}

}  // namespace engine
