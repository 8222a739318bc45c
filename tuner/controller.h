#pragma once
// The auto-tuner: from what the produce pipeline and the WAL report, it chooses min_batches and
// linger, continuously, and says why.
//
// Pure: no threads, no clocks, no I/O. Time is passed in (any monotonic epoch, nanoseconds), so
// the same code runs in the server (fed by the WAL observer and the Kafka handlers), in
// `kairo-lab sim`, and in tests on recorded or synthetic traces. Not thread-safe: one owner calls it.
//
// The model (docs/tuner.md):
//   population N = batch arrival rate x (broker latency + client round trip R)   (Little's law)
//   is the number of batches circulating between clients and the log. In closed loop with R
//   smaller than a sync, cutting a group the moment the disk is free splits the producers into
//   alternating cohorts; waiting for about N batches (bounded by a short linger of a few R) lets
//   one sync cover them all. With N near 1, or open-loop arrivals, the best policy is to cut at
//   once (min_batches 1, linger 0): no linger tax.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "wal/flush_policy.h"

namespace tuner {

using duration = std::chrono::nanoseconds;
using time_point = std::chrono::nanoseconds;  // the caller's monotonic clock, from any epoch

// One synced WAL group.
struct group_sample {
  time_point done{0};
  uint32_t batches = 0;
  uint64_t bytes = 0;
  duration sync{0};  // fdatasync, including any simulated delay
  duration write{0};
  duration oldest_wait{0};  // how long the group's first batch waited for the cut
  duration idle_before{0};  // how long the log sat idle before this cut
  bool by_linger = false;   // cut because the oldest batch waited out the linger (no count was met)
};

// One produce request arriving.
struct request_sample {
  time_point arrived{0};
  uint32_t batches = 0;
  uint64_t bytes = 0;
  // `bytes` counts what the log will hold: each batch plus the WAL's record header.
  // Time since this connection's previous produce answer, when it had one: the client round trip
  // R if the client is closed-loop (it answers acks with new sends).
  std::optional<duration> gap;
};

// One produce request answered.
struct ack_sample {
  time_point at{0};
  uint32_t batches = 0;
  duration latency{0};  // arrival to answer, broker side
};

// The auto profile's cap on the buffer (bytes pending before a cut), and the buffer it uses when
// bytes are not what it waits for.
inline constexpr uint64_t buffer_cap = wal::default_buffer_bytes;

// What the controller proposes is the WAL's own policy type, so nothing converts between them.
using policy = wal::flush_policy;

// What the controller saw over its window; exported with every decision.
struct signals {
  double window_s = 0;
  double active_s = 0;  // of the window, the time the load was on (pauses left out): rates are over this
  uint64_t groups = 0, requests = 0, acks = 0;
  double arrival_batches_per_s = 0;
  double batches_per_group = 0;
  uint32_t max_batches_per_group = 0;  // when the producers form one cohort: exactly the cohort
  double bytes_per_group = 0;
  uint64_t max_bytes_per_group = 0;
  double busy_fraction = 0;  // share of the window the log spent writing and syncing
  double sync_mean_s = 0, sync_p90_s = 0;
  double sync_fixed_s = 0, sync_per_mib_s = 0;  // recursive least squares fit: sync = fixed + per_mib * MiB
  double ack_mean_s = 0, ack_p50_s = 0, ack_p99_s = 0;
  double round_trip_p50_s = 0, round_trip_p90_s = 0;
  double round_trip_spread_s = 0;   // p95 - p5 of the round trips: how far apart one cohort arrives
  double round_trip_tightness = 1;  // (p90 - p10) / p50 of the round trips: small for clients answering acks
  double closed_loop_score = 1;     // median gap / mean time between groups: ~0.5 open loop, small closed loop
  bool closed_loop = false;
  bool waiting_pays = false;  // a sync is clearly longer than the spread of the cohort's round trips
  double population = 0;      // batches in circulation (Little's law)
  double arrival_bytes_per_s = 0;
  double population_bytes = 0;  // bytes in circulation (Little's law), as the log frames them
  double linger_cut_share = 0;  // share of groups cut by the linger: the counts waited for what never came
};

// Which rule made a decision. name() gives the short machine-friendly word used in traces,
// metrics labels and the admin API.
enum class rule {
  none,            // no decision yet
  idle,            // no traffic for idle_reset: back to cut at once
  low_load,        // about one batch in circulation: cut at once
  open_loop,       // arrivals do not follow acks: cut at once
  sync_short,      // a sync is not clearly longer than the cohort's round trip: cut at once
  cohort,          // closed loop: wait for the cohort (target; applied as cohort_jump or hold)
  cohort_merge,    // cohorts alternate: linger one sync + round trip so they merge
  cohort_jump,     // a regime change or a large move to the cohort target, applied at once
  cohort_trim,     // a small move toward the target
  hold,            // the target is close enough: keep the policy
  guard_hold,      // guardrail: a trial is running, hold until it is judged
  guard_trial,     // guardrail: trying the policy against cut-at-once
  guard_fallback,  // guardrail: the trial lost, back to cut at once
  guard_keep,      // guardrail: the trial won, keep it
  reset,           // reset() was called
};
const char* name(rule r);

struct decision {
  time_point at{0};
  policy next;
  bool changed = false;
  tuner::rule rule = rule::none;
  std::string reason;  // the same in words, with the numbers behind it
  signals seen;
};

struct config {
  duration window = std::chrono::milliseconds(500);     // signals are computed over this much history
  duration idle_reset = std::chrono::seconds(1);        // no traffic this long: back to cut-at-once
  double population_fraction = 1.0;                     // wait for this share of the circulating batches
  double linger_round_trips = 2.0;                      // linger = this many round-trip spreads...
  duration min_linger = std::chrono::microseconds(20);  // ...within these bounds
  double linger_cycle_share = 0.5;  // ...and at least this share of a cycle (p90 sync + p90 round trip)
  double split_fraction = 0.75;     // groups smaller than this share of the population: cohorts split
  double merged_fill = 0.995;       // once merged, cut at this share of the largest group's bytes
  duration max_linger = std::chrono::milliseconds(20);
  uint32_t max_min_batches = 4096;
  double closed_loop_threshold = 0.35;  // closed_loop_score below this: closed loop...
  double open_loop_threshold = 0.45;    // ...and above this: open again (hysteresis, no flapping)
  double tight_round_trips = 0.5;       // or round_trip_tightness below this: closed loop
  // Cutting at once splits a closed loop's cohort (its first arrival goes alone while the rest wait
  // out that sync): about two syncs a cycle. Waiting merges it into one and costs how far apart its
  // producers come back (the spread of their round trips). Wait only while the mean sync exceeds
  // that cost by this factor (entering) and keeps above it by the second (staying), so that
  // clients whose round trips vary as much as a sync are left to cut at once.
  double wait_enter_ratio = 1.3;
  double wait_stay_ratio = 1.1;
  // A stretch without arrivals longer than all of these is a pause of the load, not part of it.
  double pause_min_s = 0.002;
  double pause_cycles = 4.0;         // ...times a whole cycle (p90 sync + p90 round trip)
  double pause_arrivals = 50.0;      // ...times the median time between arrivals
  double low_load_population = 1.5;  // fewer batches in circulation: cut at once
  double dead_band = 0.10;           // relative changes smaller than this are not made
  double jump_threshold = 0.5;       // relative changes larger than this jump at once
  double max_step = 0.25;            // otherwise move at most this share per decision
  size_t history = 100;              // decisions kept for explanation
  // Guardrail: every guard_interval spent waiting for cohorts, interleave guard_pairs slots of the
  // model's policy and of cut-at-once (low-latency's behaviour), each guard_slot long and measured
  // after guard_settle (the cohorts need a few cycles to re-form); if cut-at-once delivers more
  // than guard_margin times the bytes per second, fall back to it for guard_fallback. Bytes, not
  // batches: a merged cohort comes back in fewer, larger batches.
  duration guard_interval = std::chrono::seconds(60);
  int guard_pairs = 3;
  duration guard_slot = std::chrono::milliseconds(400);
  duration guard_settle = std::chrono::milliseconds(150);
  // ...or, on a slow disk, this many cycles (p90 sync + p90 round trip at the trial's start):
  // a slot must hold enough groups to tell the policies apart.
  double guard_settle_cycles = 10;
  double guard_slot_cycles = 30;
  duration guard_slot_max = std::chrono::seconds(5);  // ...but never longer (a stalled disk's cycle)
  double guard_margin = 1.05;
  duration guard_fallback = std::chrono::seconds(30);  // doubled for each loss in a row, up to 8x
  // The first trial comes early when the model's counts misjudge the load: once it has waited for
  // cohorts guard_early long, has settled (no merge, and no flip between merging and waiting for
  // the cohort for guard_early) or keeps flipping (at least guard_flaps flips in the last
  // 2 x guard_early: it cannot settle), and more than guard_linger_share of the groups in the window
  // have been cut by the linger for guard_early on end (the counts waited for batches or bytes that never came, as when
  // producers of different sizes and cycles share the log), rather than after a whole guard_interval.
  duration guard_early = std::chrono::seconds(2);
  double guard_linger_share = 0.5;
  int guard_flaps = 3;
  size_t max_samples = 200000;  // per kind, a memory bound at extreme rates
};

class controller {
 public:
  explicit controller(config c = {});

  void observe(const group_sample& s);
  void observe(const request_sample& s);
  void observe(const ack_sample& s);

  // Computes the signals over the window ending at `now` and the next policy. Cheap enough to call
  // every 100 ms. The decision is also appended to history().
  decision decide(time_point now);

  policy current() const { return current_; }
  // Starts from this policy (e.g. after an operator pinned one and returned to auto).
  void reset(const policy& p, time_point now);
  const std::deque<decision>& history() const { return history_; }
  const config& settings() const { return cfg_; }

 private:
  signals compute(time_point now);
  void trim(time_point now);
  policy target(const signals& s, tuner::rule& rule, std::string& reason) const;

  config cfg_;
  policy current_;  // what is applied
  policy model_;    // what the model alone would apply (differs during guardrail trials and fallbacks)
  std::deque<group_sample> groups_;
  std::deque<request_sample> requests_;
  std::deque<ack_sample> acks_;
  std::optional<time_point> last_traffic_;
  std::optional<time_point> traffic_since_;  // start of the current busy period
  bool closed_loop_ = false;                 // the last classification, for hysteresis
  bool waiting_pays_ = false;                // likewise

  // Guardrail state.
  enum class guard_phase { watching, trial, fallback };
  bool guard(time_point now, const policy& model, decision& d);  // true when it decided
  double bytes_per_s_since(time_point from, time_point now) const;
  guard_phase guard_phase_ = guard_phase::watching;
  time_point guard_since_{0};                    // start of the current phase (watching: of cohort waiting)
  bool guard_watching_ = false;                  // the model is waiting for cohorts and the clock runs
  bool guard_early_done_ = false;                // this stretch of waiting had its early trial
  std::deque<time_point> flips_;                 // when the model last flipped between merging and the cohort rule
  bool merging_ = false;                         // the model's last rule was cohort_merge
  std::optional<time_point> linger_high_since_;  // linger cuts above guard_linger_share since
  int guard_losses_ = 0;                         // trials lost in a row (lengthens the fallback)
  int guard_slot_ = 0;                           // trial slot index: even = model, odd = cut-at-once
  time_point guard_slot_start_{0};
  duration guard_slot_len_{0}, guard_settle_len_{0};  // this trial's, from the cycle at its start
  std::vector<double> guard_model_, guard_at_once_;   // bytes/s per slot
  std::deque<decision> history_;
  // Recursive least squares over (1, MiB) -> sync seconds, with forgetting.
  Eigen::Vector2d theta_ = Eigen::Vector2d::Zero();
  Eigen::Matrix2d p_ = Eigen::Matrix2d::Identity() * 1e3;
  uint64_t fitted_ = 0;
};

}  // namespace tuner
