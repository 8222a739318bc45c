#pragma once
// `kairo-lab oracle`: the tuner against the best fixed policy, in the simulator (tuner/sim).
//
// For every point of a grid (storage x message size x load shape x concurrency) it simulates a
// grid of fixed policies chosen around the point's bound (min_batches around the batches in
// circulation x linger around one sync), the three static profiles and auto, all on the same
// seed. The oracle is the fixed policy with the most messages per second (ties within 1 %: the
// lower p99). It writes every run and the regret of auto (against the oracle and against the
// best profile) as CSV, a Markdown table with every missed target marked, and plots.
// Simulated time only: deterministic for a given seed.
#include <string>
#include <vector>

#include "tuner/sim/simulator.h"

namespace lab::oracle {

// One load of the grid: a storage class, a message size, a load shape, a concurrency.
struct grid_point {
  std::string storage;  // native | cloud | hdd (simulated sync models)
  std::string shape;    // steady | bursty | mixed | many
  uint32_t message_bytes = 256;
  uint32_t concurrency = 1;
  tuner::sim::scenario scenario;  // without its policy
};

// The grid of the issue (sizes 256 B-16 KiB, concurrency 1-256 and 1,000 producers, native/cloud/
// hdd, steady/bursty/mixed); `quick` keeps a corner of it.
std::vector<grid_point> make_grid(bool quick, tuner::duration length, tuner::duration warmup,
                                  tuner::sim::spread round_trip, uint64_t seed);

// The fixed policies the oracle chooses from at a point: cut at once, and min_batches of 1/4, 1/2,
// 3/4 and all of the batches in circulation x linger of 1/2, 1, 2 and 4 syncs (capped at 20 ms).
std::vector<tuner::sim::policy_choice> policy_grid(const grid_point& p);

// The outcome at one point.
struct regret {
  const grid_point* point = nullptr;
  tuner::sim::result oracle, best_profile, auto_tuned;
  double vs_oracle = 0, p99_vs_oracle = 0, vs_profile = 0;  // auto's ratios
  bool met_oracle = false, met_p99 = false, met_profile = false;
};

// Picks the oracle and the best profile among `fixed` (the policy grid and the profiles, by name)
// and computes auto's ratios. REQUIRES: fixed is not empty.
regret judge(const grid_point& p, const std::vector<tuner::sim::result>& fixed, const tuner::sim::result& auto_run);

int oracle_main(int argc, const char* const* argv);

}  // namespace lab::oracle
