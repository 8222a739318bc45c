#include "tuner/controller.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace tuner {
namespace {

double secs(duration d) { return std::chrono::duration<double>(d).count(); }
duration from_secs(double s) { return duration(static_cast<int64_t>(s * 1e9)); }

// The q-quantile of v (0..1); v is reordered.
double quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  auto k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

template <class... A>
std::string format(const char* fmt, A... a) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, a...);
  return buf;
}

double relative_change(double from, double to) { return std::abs(to - from) / std::max(std::abs(from), 1.0); }

}  // namespace

controller::controller(config c) : cfg_(c) {}

void controller::observe(const group_sample& s) {
  groups_.push_back(s);
  if (groups_.size() > cfg_.max_samples) groups_.pop_front();
  if (!last_traffic_ || s.done - *last_traffic_ >= cfg_.idle_reset) traffic_since_ = s.done;
  last_traffic_ = std::max(last_traffic_.value_or(s.done), s.done);
  // RLS with forgetting factor 0.99: tracks a disk whose cost per byte or fixed cost changes.
  const double lambda = 0.99;
  Eigen::Vector2d x(1.0, static_cast<double>(s.bytes) / (1 << 20));
  const double y = secs(s.sync);
  Eigen::Vector2d k = p_ * x / (lambda + x.dot(p_ * x));
  theta_ += k * (y - x.dot(theta_));
  p_ = (p_ - k * x.transpose() * p_) / lambda;
  ++fitted_;
}

void controller::observe(const request_sample& s) {
  requests_.push_back(s);
  if (requests_.size() > cfg_.max_samples) requests_.pop_front();
  if (!last_traffic_ || s.arrived - *last_traffic_ >= cfg_.idle_reset) traffic_since_ = s.arrived;
  last_traffic_ = std::max(last_traffic_.value_or(s.arrived), s.arrived);
}

void controller::observe(const ack_sample& s) {
  acks_.push_back(s);
  if (acks_.size() > cfg_.max_samples) acks_.pop_front();
}

void controller::trim(time_point now) {
  const auto from = now - cfg_.window;
  while (!groups_.empty() && groups_.front().done < from) groups_.pop_front();
  while (!requests_.empty() && requests_.front().arrived < from) requests_.pop_front();
  while (!acks_.empty() && acks_.front().at < from) acks_.pop_front();
}

signals controller::compute(time_point now) {
  trim(now);
  signals s;
  // Right after a start or an idle period the window holds less history than its length: rates
  // are over the history there is, or a load would look smaller than it is for a whole window.
  s.window_s = secs(cfg_.window);
  if (traffic_since_ && now - *traffic_since_ < cfg_.window) s.window_s = std::max(secs(now - *traffic_since_), 0.01);
  s.groups = groups_.size();
  s.requests = requests_.size();
  s.acks = acks_.size();

  uint64_t group_batches = 0, group_bytes = 0;
  double busy = 0;
  std::vector<double> syncs;
  syncs.reserve(groups_.size());
  for (auto& g : groups_) {
    group_batches += g.batches;
    s.max_batches_per_group = std::max(s.max_batches_per_group, g.batches);
    group_bytes += g.bytes;
    s.max_bytes_per_group = std::max(s.max_bytes_per_group, g.bytes);
    busy += secs(g.write + g.sync);
    syncs.push_back(secs(g.sync));
    if (g.by_linger) s.linger_cut_share += 1;
  }
  if (!groups_.empty()) {
    s.linger_cut_share /= static_cast<double>(groups_.size());
    s.batches_per_group = static_cast<double>(group_batches) / static_cast<double>(groups_.size());
    s.bytes_per_group = static_cast<double>(group_bytes) / static_cast<double>(groups_.size());
    double sum = 0;
    for (double v : syncs) sum += v;
    s.sync_mean_s = sum / static_cast<double>(syncs.size());
    s.sync_p90_s = quantile(syncs, 0.9);
  }

  if (fitted_ >= 2) {
    s.sync_fixed_s = theta_(0);
    s.sync_per_mib_s = theta_(1);
  }

  uint64_t arrived_batches = 0, arrived_bytes = 0;
  std::vector<double> gaps, between;
  between.reserve(requests_.size());
  std::optional<time_point> prev;
  for (auto& r : requests_) {
    arrived_batches += r.batches;
    arrived_bytes += r.bytes;
    if (r.gap) gaps.push_back(secs(*r.gap));
    if (prev) between.push_back(std::max(0.0, secs(r.arrived - *prev)));
    prev = prev ? std::max(*prev, r.arrived) : r.arrived;
  }
  s.round_trip_p50_s = quantile(gaps, 0.5);
  s.round_trip_p90_s = quantile(gaps, 0.9);
  // p95 - p5: a small second group of slower producers (mixed load) is not the cohort's spread.
  s.round_trip_spread_s = quantile(gaps, 0.95) - quantile(gaps, 0.05);
  // The load may have paused inside the window (producers on and off): rates over the whole window
  // would then count the silence as load that is not there, and the cohort would look smaller
  // than it is, every time it comes back. A pause is a stretch without arrivals far longer than
  // both a whole cycle (sync + round trip) and the usual time between arrivals; the rates are over
  // the time the load was on.
  s.active_s = s.window_s;
  if (!between.empty() && !requests_.empty()) {
    std::vector<double> b = between;
    const double usual = quantile(b, 0.5);
    const double pause = std::max(
        {cfg_.pause_min_s, cfg_.pause_cycles * (s.sync_p90_s + s.round_trip_p90_s), cfg_.pause_arrivals * usual});
    double silent = 0;
    for (double g : between)
      if (g > pause) silent += g;
    const double head = secs(requests_.front().arrived) - (secs(now) - s.window_s);
    const double tail = secs(now - *prev);
    if (head > pause) silent += head;
    if (tail > pause) silent += tail;
    s.active_s = std::clamp(s.window_s - silent, std::min(0.01, s.window_s), s.window_s);
  }
  s.busy_fraction = std::min(1.0, busy / s.active_s);
  s.arrival_batches_per_s = static_cast<double>(arrived_batches) / s.active_s;
  s.arrival_bytes_per_s = static_cast<double>(arrived_bytes) / s.active_s;
  // Answers go out once per group. A closed-loop client answers an ack with a new send after its
  // round trip, so its gaps are short next to the time between groups; an open-loop client's
  // arrivals ignore the answers, so its gaps spread over that whole interval (median ~ half).
  // Without gap samples there is nothing closed about the loop we could exploit.
  const double group_interval = groups_.empty() ? 0 : s.active_s / static_cast<double>(groups_.size());
  s.closed_loop_score = gaps.empty() || group_interval <= 0 ? 1.0 : std::min(1.0, s.round_trip_p50_s / group_interval);
  const double threshold = closed_loop_ ? cfg_.open_loop_threshold : cfg_.closed_loop_threshold;
  // A second sign of a closed loop: round trips that hardly vary (p90 - p10 well under the
  // median) are clients answering acks, whatever the time between groups; arrivals that ignore the
  // answers spread their gaps over the whole interval. This one tells them apart when a sync takes
  // about a round trip and the score above sits near 1/2 either way.
  s.round_trip_tightness =
      s.round_trip_p50_s > 0 ? (quantile(gaps, 0.9) - quantile(gaps, 0.1)) / s.round_trip_p50_s : 1.0;
  s.closed_loop = !gaps.empty() && (s.closed_loop_score < threshold || s.round_trip_tightness < cfg_.tight_round_trips);
  closed_loop_ = s.closed_loop;

  std::vector<double> lat;
  double weighted = 0, weight = 0;
  for (auto& a : acks_) {
    lat.push_back(secs(a.latency));
    weighted += secs(a.latency) * a.batches;
    weight += a.batches;
  }
  if (weight > 0) s.ack_mean_s = weighted / weight;
  s.ack_p50_s = quantile(lat, 0.5);
  s.ack_p99_s = quantile(lat, 0.99);

  s.population = s.arrival_batches_per_s * (s.ack_mean_s + s.round_trip_p50_s);
  s.population_bytes = s.arrival_bytes_per_s * (s.ack_mean_s + s.round_trip_p50_s);
  // Cutting at once in a closed loop splits the cohort (its first arrival goes alone, the rest wait
  // out that sync): about two syncs per cycle. Waiting merges it into one sync per cycle and costs
  // how far apart its producers come back. So waiting pays when a sync is longer than that spread.
  const double wait_cost = s.round_trip_spread_s;
  s.waiting_pays = s.sync_mean_s > (waiting_pays_ ? cfg_.wait_stay_ratio : cfg_.wait_enter_ratio) * wait_cost;
  waiting_pays_ = s.waiting_pays;
  return s;
}

const char* name(rule r) {
  switch (r) {
    case rule::none: return "none";
    case rule::idle: return "idle";
    case rule::low_load: return "low_load";
    case rule::open_loop: return "open_loop";
    case rule::sync_short: return "sync_short";
    case rule::cohort: return "cohort";
    case rule::cohort_merge: return "cohort_merge";
    case rule::cohort_jump: return "cohort_jump";
    case rule::cohort_trim: return "cohort_trim";
    case rule::hold: return "hold";
    case rule::guard_hold: return "guard_hold";
    case rule::guard_trial: return "guard_trial";
    case rule::guard_fallback: return "guard_fallback";
    case rule::guard_keep: return "guard_keep";
    case rule::reset: return "reset";
  }
  return "unknown";
}

policy controller::target(const signals& s, tuner::rule& rule, std::string& reason) const {
  if (s.population < cfg_.low_load_population) {
    rule = rule::low_load;
    reason = format(
        "about %.2f batches in circulation (%.0f batches/s x (%.3f ms broker + %.3f ms client)): cut at once, no "
        "linger",
        s.population, s.arrival_batches_per_s, s.ack_mean_s * 1e3, s.round_trip_p50_s * 1e3);
    return {1, duration{0}};
  }
  if (!s.closed_loop) {
    rule = rule::open_loop;
    reason = format(
        "arrivals do not follow acks (median gap / time between groups %.2f >= %.2f): group commit batches them as "
        "they come, cut at once",
        s.closed_loop_score, cfg_.closed_loop_threshold);
    return {1, duration{0}};
  }
  if (!s.waiting_pays) {
    rule = rule::sync_short;
    reason = format(
        "closed loop, but a sync (%.3f ms) is not clearly longer than the spread of the cohort's round trips "
        "(%.3f ms, p95 - p5; median %.3f ms): waiting would lengthen the tail more than it saves, cut at once",
        s.sync_mean_s * 1e3, s.round_trip_spread_s * 1e3, s.round_trip_p50_s * 1e3);
    return {1, duration{0}};
  }
  // Wait for everything in circulation: one batch short leaves a straggler that becomes a second,
  // alternating cohort (the trap again); one too many costs only the short linger below.
  //
  // The count is kept in bytes as well as batches, because clients decide how many batches a
  // cohort comes back in: one librdkafka producer shared by many senders sends one request
  // per partition batch for whoever is ready, so the same senders return as 3 batches in one
  // cycle and 6 in the next, while their bytes stay the same. The cut is by bytes (buffer), and
  // min_batches is set where it cannot cut first unless the batches really are all there.
  //
  // Little's law is off by a batch or two over a window of few long cycles, so once the producers
  // form one cohort its largest group is the count (capped by the estimate, so that a step down
  // is followed).
  const bool split = s.bytes_per_group < cfg_.split_fraction * s.population_bytes;
  double want_bytes = cfg_.population_fraction * s.population_bytes;
  // Once merged, the largest group is the whole cohort, less a hair for the framing that varies
  // with how a client splits the same records into batches (a cut that waits for a byte that never
  // comes costs a linger every cycle). Not the mean: a cut below the cohort makes smaller groups,
  // and a mean would follow them down.
  //
  // The hair is less than half a batch, though: a cut one batch short of the cohort leaves that
  // batch behind, alone; it is cut by itself while the cohort syncs, and the cohort then waits a
  // whole sync for it (two syncs a cycle: the trap, rebuilt by the threshold itself).
  if (!split) {
    const double max_bytes = static_cast<double>(s.max_bytes_per_group);
    const double batch_bytes = s.batches_per_group > 0 ? s.bytes_per_group / s.batches_per_group : max_bytes;
    const double hair = std::min((1 - cfg_.merged_fill) * max_bytes, 0.5 * batch_bytes);
    want_bytes = std::min(max_bytes - hair, 1.1 * want_bytes + 1);
  }
  // A backstop well above the batch count: the bytes decide, whatever the batches come back as.
  const double want_batches = std::ceil(2 * s.population) + 1;
  policy p;
  p.buffer_bytes = static_cast<uint64_t>(std::clamp(want_bytes, 1.0, static_cast<double>(buffer_cap)));
  p.min_batches = static_cast<uint32_t>(std::clamp(want_batches, 1.0, static_cast<double>(cfg_.max_min_batches)));
  if (split) {
    // The cohorts are split: each group waits while the other syncs, so a linger shorter than a
    // sync never lets them meet. Wait one sync and round trip once; they merge into one group.
    p.linger = std::clamp(from_secs(s.sync_p90_s + s.round_trip_p90_s), cfg_.min_linger, cfg_.max_linger);
    rule = rule::cohort_merge;
    reason = format(
        "closed loop, %.1f batches / %.0f bytes in circulation but %.1f / %.0f per group: the producers split "
        "into cohorts that alternate; wait for %u batches or %llu bytes, at most %.3f ms (p90 sync %.3f ms + p90 "
        "round trip %.3f ms) so they merge",
        s.population, s.population_bytes, s.batches_per_group, s.bytes_per_group, p.min_batches,
        static_cast<unsigned long long>(p.buffer_bytes), secs(p.linger) * 1e3, s.sync_p90_s * 1e3,
        s.round_trip_p90_s * 1e3);
    return p;
  }
  // Linger counts from the cohort's first arrival, so it needs to cover only how far apart its
  // producers come back (the spread of their round trips), not a whole round trip.
  //
  // But not less than half a sync and round trip: the linger costs nothing while the whole cohort
  // comes back (the bytes cut first), and when part of it comes late (a restart after a pause, a
  // slow producer) a linger shorter than that cuts the early part alone and splits the cohort
  // again, which costs a whole sync per cycle until the merge rule has seen it.
  p.linger = std::clamp(from_secs(std::max(cfg_.linger_round_trips * s.round_trip_spread_s,
                                           cfg_.linger_cycle_share * (s.sync_p90_s + s.round_trip_p90_s))),
                        cfg_.min_linger, cfg_.max_linger);
  rule = rule::cohort;
  reason = format(
      "closed loop, %.1f batches / %.0f bytes in circulation (%.0f batches/s x (%.3f ms broker + %.3f ms client)), "
      "sync %.3f ms: wait for %u batches or %llu bytes, at most %.3f ms (the larger of %.1f x round-trip spread "
      "%.3f ms and %.2f x (p90 sync + p90 round trip))",
      s.population, s.population_bytes, s.arrival_batches_per_s, s.ack_mean_s * 1e3, s.round_trip_p50_s * 1e3,
      s.sync_mean_s * 1e3, p.min_batches, static_cast<unsigned long long>(p.buffer_bytes), secs(p.linger) * 1e3,
      cfg_.linger_round_trips, s.round_trip_spread_s * 1e3, cfg_.linger_cycle_share);
  return p;
}

double controller::bytes_per_s_since(time_point from, time_point now) const {
  // Between the first and the last group completed in the slot, not over the slot: a slot holds
  // only a few groups on a slow disk, and whether one more falls inside it would swing the figure
  // by a whole group's share.
  uint64_t bytes = 0, first_bytes = 0;
  size_t n = 0;
  time_point first{0}, last{0};
  for (auto& g : groups_) {
    if (g.done < from || g.done >= now) continue;
    if (n++ == 0) {
      first = g.done;
      first_bytes = g.bytes;
    }
    last = g.done;
    bytes += g.bytes;
  }
  if (n >= 3 && last > first) return static_cast<double>(bytes - first_bytes) / secs(last - first);
  const double span = secs(now - from);
  return span > 0 ? static_cast<double>(bytes) / span : 0;
}

bool controller::guard(time_point now, const policy& model, decision& d) {
  const policy at_once{};
  switch (guard_phase_) {
    case guard_phase::fallback:
      if (now - guard_since_ < cfg_.guard_fallback * (1 << std::min(guard_losses_ - 1, 3))) {
        current_ = at_once;
        d.rule = rule::guard_hold;
        d.reason = "guardrail fallback in force: cut-at-once beat the model's policy in the last trial";
        return true;
      }
      guard_phase_ = guard_phase::watching;
      guard_watching_ = false;
      return false;
    case guard_phase::trial: {
      if (now - guard_slot_start_ < guard_slot_len_) {  // the slot runs on
        current_ = guard_slot_ % 2 == 0 ? model : at_once;
        d.rule = rule::guard_trial;
        d.reason = "guardrail trial slot " + std::to_string(guard_slot_ + 1) + "/" +
                   std::to_string(2 * cfg_.guard_pairs) +
                   (guard_slot_ % 2 == 0 ? ": the model's policy" : ": cut-at-once");
        return true;
      }
      // Close the slot that just ran (measured after it settled), then open the next or conclude.
      const double rate = bytes_per_s_since(guard_slot_start_ + guard_settle_len_, now);
      (guard_slot_ % 2 == 0 ? guard_model_ : guard_at_once_).push_back(rate);
      ++guard_slot_;
      if (guard_slot_ < 2 * cfg_.guard_pairs) {
        current_ = guard_slot_ % 2 == 0 ? model : at_once;
        guard_slot_start_ = now;
        d.rule = rule::guard_trial;
        d.reason = "guardrail trial slot " + std::to_string(guard_slot_ + 1) + "/" +
                   std::to_string(2 * cfg_.guard_pairs) +
                   (guard_slot_ % 2 == 0 ? ": the model's policy" : ": cut-at-once");
        return true;
      }
      auto median = [](std::vector<double> v) { return quantile(v, 0.5); };
      const double m = median(guard_model_), a = median(guard_at_once_);
      guard_since_ = now;
      if (a > cfg_.guard_margin * m) {
        guard_phase_ = guard_phase::fallback;
        current_ = at_once;
        ++guard_losses_;
        d.rule = rule::guard_fallback;
        d.reason = format(
            "guardrail: cut-at-once delivered %.0f bytes/s against %.0f for the model's policy "
            "(median of %d slots each): falling back to it for %.0f s",
            a, m, cfg_.guard_pairs, secs(cfg_.guard_fallback * (1 << std::min(guard_losses_ - 1, 3))));
      } else {
        guard_losses_ = 0;
        guard_phase_ = guard_phase::watching;
        current_ = model;
        d.rule = rule::guard_keep;
        d.reason = format(
            "guardrail: the model's policy delivered %.0f bytes/s against %.0f for cut-at-once "
            "(median of %d slots each): keeping it",
            m, a, cfg_.guard_pairs);
      }
      return true;
    }
    case guard_phase::watching:
      if (model.min_batches <= 1) {  // cutting at once already: nothing to guard
        guard_watching_ = false;
        guard_early_done_ = false;
        linger_high_since_.reset();
        return false;
      }
      if (!guard_watching_) {
        guard_watching_ = true;
        guard_since_ = now;
        return false;
      }
      while (!flips_.empty() && now - flips_.front() > 2 * cfg_.guard_early) flips_.pop_front();
      const bool settled = !merging_ && (flips_.empty() || now - flips_.back() >= cfg_.guard_early);
      const bool flapping = static_cast<int>(flips_.size()) >= cfg_.guard_flaps;
      if (d.seen.linger_cut_share <= cfg_.guard_linger_share) linger_high_since_.reset();
      else if (!linger_high_since_) linger_high_since_ = now;
      const bool early = !guard_early_done_ && now - guard_since_ >= cfg_.guard_early && (settled || flapping) &&
                         linger_high_since_ && now - *linger_high_since_ >= cfg_.guard_early;
      if (!early && now - guard_since_ < cfg_.guard_interval) return false;
      guard_early_done_ = true;
      guard_phase_ = guard_phase::trial;
      guard_slot_ = 0;
      guard_slot_start_ = now;
      {
        const double cycle = d.seen.sync_p90_s + d.seen.round_trip_p90_s;
        guard_settle_len_ = std::max(cfg_.guard_settle, from_secs(cfg_.guard_settle_cycles * cycle));
        guard_settle_len_ = std::min(guard_settle_len_, cfg_.guard_slot_max / 3);
        guard_slot_len_ = std::clamp(guard_settle_len_ + from_secs(cfg_.guard_slot_cycles * cycle), cfg_.guard_slot,
                                     std::max(cfg_.guard_slot, cfg_.guard_slot_max));
      }
      guard_model_.clear();
      guard_at_once_.clear();
      current_ = model;
      d.rule = rule::guard_trial;
      d.reason = "guardrail trial slot 1/" + std::to_string(2 * cfg_.guard_pairs) + ": the model's policy" +
                 (early ? format(" (early: %.0f %% of the groups were cut by the linger, the counts misjudge the load)",
                                 d.seen.linger_cut_share * 100)
                        : "");
      return true;
  }
  return false;
}

decision controller::decide(time_point now) {
  decision d;
  d.at = now;
  d.seen = compute(now);
  const policy before = current_;
  // During a trial or a fallback the guardrail owns the policy; the model's own setpoint (the
  // policy it would run) is kept aside in model_.
  if (guard_phase_ != guard_phase::watching) current_ = model_;

  if (d.seen.requests == 0 && d.seen.groups == 0) {
    const bool long_idle = !last_traffic_ || now - *last_traffic_ >= cfg_.idle_reset;
    if (long_idle && !(current_ == policy{})) {
      current_ = policy{};
      d.rule = rule::idle;
      d.reason = "no traffic for a while: back to cut-at-once so the next lone request pays no linger";
    } else {
      d.rule = rule::hold;
      d.reason = "no traffic in the window: nothing to learn from";
    }
  } else {
    tuner::rule rule = rule::none;
    std::string reason;
    const policy want = target(d.seen, rule, reason);
    if (want.min_batches > 1 && (rule == rule::cohort_merge) != merging_) {
      merging_ = rule == rule::cohort_merge;
      flips_.push_back(now);
      if (flips_.size() > 64) flips_.pop_front();
    }
    const bool regime = want.min_batches == 1 || current_.min_batches == 1 || rule == rule::cohort_merge;
    const double dl =
        relative_change(static_cast<double>(current_.linger.count()), static_cast<double>(want.linger.count()));
    if (regime || dl > cfg_.jump_threshold) {
      // A regime change or a step in load: go to the model's setpoint at once (no windup to undo).
      current_ = want;
      d.rule = rule == rule::cohort ? rule::cohort_jump : rule;
      d.reason = reason;
    } else if (want.min_batches == current_.min_batches && want.buffer_bytes == current_.buffer_bytes &&
               dl < cfg_.dead_band) {
      d.rule = rule::hold;
      d.reason = "within the dead band of the setpoint (" + reason + ")";
    } else {
      // The counts follow the target exactly (one batch short of the cohort is the trap); the
      // linger moves part of the way, so that noise in the round trips cannot make it ring.
      current_.min_batches = want.min_batches;
      current_.buffer_bytes = want.buffer_bytes;
      if (dl >= cfg_.dead_band) {
        const double from = static_cast<double>(current_.linger.count()), to = static_cast<double>(want.linger.count());
        const double limit = std::max(1.0, cfg_.max_step * from);
        current_.linger = duration(static_cast<int64_t>(from + std::clamp(to - from, -limit, limit)));
      }
      d.rule = rule::cohort_trim;
      d.reason = "trim toward the setpoint: " + reason;
    }
  }
  model_ = current_;
  if (!guard(now, model_, d)) current_ = model_;
  d.next = current_;
  d.changed = !(current_ == before);
  history_.push_back(d);
  if (history_.size() > cfg_.history) history_.pop_front();
  return d;
}

void controller::reset(const policy& p, time_point now) {
  current_ = model_ = p;
  guard_phase_ = guard_phase::watching;
  guard_watching_ = false;
  guard_early_done_ = false;
  guard_losses_ = 0;
  decision d;
  d.at = now;
  d.next = p;
  d.changed = true;
  d.rule = rule::reset;
  d.reason = "resumed from the policy in force";
  history_.push_back(d);
  if (history_.size() > cfg_.history) history_.pop_front();
}

}  // namespace tuner
