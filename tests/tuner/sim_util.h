#pragma once
// Scenarios shared by the simulator and controller tests.
#include <algorithm>
#include <vector>

#include "tuner/sim/simulator.h"

namespace tuner::sim::test {

// C closed-loop producers, client round trip R ± 20%, sync F ± 20%.
inline scenario closed(uint32_t producers, duration round_trip, duration sync,
                       duration length = std::chrono::seconds(4), duration warmup = std::chrono::seconds(1)) {
  scenario s;
  s.offered.producers = producers;
  s.offered.round_trip = {round_trip, 0.2};
  s.sync = {sync, duration{0}, 0.2};
  s.length = length;
  s.warmup = warmup;
  return s;
}

inline scenario open_loop(double rate, duration sync, duration length = std::chrono::seconds(4)) {
  scenario s;
  s.offered.rate = rate;
  s.sync = {sync, duration{0}, 0.2};
  s.length = length;
  return s;
}

inline result run_with(scenario s, const policy_choice& p) {
  s.policy = p;
  return run(s);
}

struct comparison {
  result low, bal, high, aut;
  const result& best_static() const {
    const result* b = &low;
    for (const result* r : {&bal, &high})
      if (r->requests_per_s > b->requests_per_s) b = r;
    return *b;
  }
};

inline comparison compare(const scenario& s) {
  return {run_with(s, low_latency()), run_with(s, balanced()), run_with(s, high_throughput()),
          run_with(s, auto_tuned())};
}

// The decisions made in [from, to].
inline std::vector<trace_point> decisions(const result& r, duration from, duration to) {
  std::vector<trace_point> out;
  for (auto& t : r.trace)
    if (t.at >= from && t.at <= to) out.push_back(t);
  return out;
}

// Acknowledged requests per second over the timeline buckets (of the default 100 ms) in [from, to).
inline double throughput(const result& r, duration from, duration to,
                         duration bucket = std::chrono::milliseconds(100)) {
  uint64_t acks = 0, n = 0;
  for (auto& b : r.timeline)
    if (b.start >= from && b.start + bucket <= to) {
      acks += b.acks;
      ++n;
    }
  return n ? static_cast<double>(acks) / (std::chrono::duration<double>(bucket).count() * static_cast<double>(n)) : 0;
}

}  // namespace tuner::sim::test
