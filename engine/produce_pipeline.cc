#include "engine/produce_pipeline.h"

namespace engine {

produce_pipeline::produce_pipeline(log_manager& log, profile p, produce_policy policy)
    : log_(log), budget_(budget_for(p, policy)) {
  std::lock_guard lock(mu_);
  state_.active = p;
  state_.policy = policy;
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

produce_pipeline::state produce_pipeline::current() const {
  std::lock_guard lock(mu_);
  return state_;
}

void produce_pipeline::apply() {
  log_.set_policy(state_.policy);
  budget_.set_capacity(budget_for(state_.active, state_.policy));
}

}  // namespace engine
