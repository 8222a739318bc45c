#pragma once
// Runs the auto-tuner in the server: the data path drops samples into a feed (a short mutex
// section per group or request, never across I/O), and every 100 ms the control thread drains
// the feed into the pure controller and, while the profile is `auto`, applies its decision.
// Pinning a profile or explicit knobs through the admin API suspends the tuner; choosing `auto`
// again resumes it from the policy in force.
#include <deque>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "engine/broker.h"
#include "engine/produce_pipeline.h"
#include "tuner/controller.h"

namespace server {

// Thread-safe hand-off of samples from the WAL sync thread and the io threads.
class tuning_feed {
 public:
  void add(const tuner::group_sample& s);
  void add(const engine::synced_group& g);  // as the controller sees it: the sync with any simulated delay
  void add(const tuner::request_sample& s);
  void add(const tuner::ack_sample& s);
  void drain_into(tuner::controller& c);

 private:
  static constexpr size_t cap = 100000;  // per kind between two drains; beyond it samples are dropped
  std::mutex mu_;
  std::vector<tuner::group_sample> groups_;      // guarded by mu_
  std::vector<tuner::request_sample> requests_;  // guarded by mu_
  std::vector<tuner::ack_sample> acks_;          // guarded by mu_
};

struct tuner_probe {
  explicit tuner_probe(prometheus::Registry& r);
  prometheus::Gauge& active;
  prometheus::Gauge& min_batches;
  prometheus::Gauge& linger_seconds;
  prometheus::Family<prometheus::Counter>& decisions;
  prometheus::Counter& changes;
  prometheus::Gauge& population;
  prometheus::Gauge& round_trip_seconds;
  prometheus::Gauge& sync_seconds;
  prometheus::Gauge& sync_fixed_seconds;
  prometheus::Gauge& sync_per_mib_seconds;
  prometheus::Gauge& arrival_batches_per_second;
  prometheus::Gauge& closed_loop;
};

// Owned and called by the control thread only.
class tuning_loop {
 public:
  tuning_loop(engine::produce_pipeline& pipeline, tuning_feed& feed, prometheus::Registry& registry,
              tuner::config cfg = {});
  // One period: drain, decide, apply when auto. `now` is the steady clock.
  void tick(std::chrono::steady_clock::time_point now);
  nlohmann::json status() const;

 private:
  engine::produce_pipeline& pipeline_;
  tuning_feed& feed_;
  tuner_probe probe_;
  tuner::controller controller_;
  bool was_auto_ = false;
  std::deque<tuner::decision> changes_;  // the last 100 decisions that changed the policy
  std::optional<tuner::decision> last_;
};

}  // namespace server
