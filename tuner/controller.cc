#include "tuner/controller.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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
  s.window_s = secs(cfg_.window);
  s.groups = groups_.size();
  s.requests = requests_.size();
  s.acks = acks_.size();

  uint64_t group_batches = 0;
  double busy = 0;
  std::vector<double> syncs;
  syncs.reserve(groups_.size());
  for (auto& g : groups_) {
    group_batches += g.batches;
    busy += secs(g.write + g.sync);
    syncs.push_back(secs(g.sync));
  }
  if (!groups_.empty()) {
    s.batches_per_group = static_cast<double>(group_batches) / static_cast<double>(groups_.size());
    double sum = 0;
    for (double v : syncs) sum += v;
    s.sync_mean_s = sum / static_cast<double>(syncs.size());
    s.sync_p90_s = quantile(syncs, 0.9);
  }
  s.busy_fraction = std::min(1.0, busy / s.window_s);
  if (fitted_ >= 2) {
    s.sync_fixed_s = theta_(0);
    s.sync_per_mib_s = theta_(1);
  }

  uint64_t arrived_batches = 0;
  std::vector<double> gaps, scores;
  for (auto& r : requests_) {
    arrived_batches += r.batches;
    if (r.gap) {
      gaps.push_back(secs(*r.gap));
      if (r.answer_interval && r.answer_interval->count() > 0)
        scores.push_back(std::min(1.0, secs(*r.gap) / secs(*r.answer_interval)));
    }
  }
  s.arrival_batches_per_s = static_cast<double>(arrived_batches) / s.window_s;
  s.round_trip_p50_s = quantile(gaps, 0.5);
  s.round_trip_p90_s = quantile(gaps, 0.9);
  // Without gap samples there is nothing closed about the loop we could exploit.
  s.closed_loop_score = scores.empty() ? 1.0 : quantile(scores, 0.5);
  const double threshold = closed_loop_ ? cfg_.open_loop_threshold : cfg_.closed_loop_threshold;
  s.closed_loop = !scores.empty() && s.closed_loop_score < threshold;
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
  return s;
}

policy controller::target(const signals& s, std::string& rule, std::string& reason) const {
  if (s.population < cfg_.low_load_population) {
    rule = "low_load";
    reason = format("about %.2f batches in circulation (%.0f batches/s x (%.3f ms broker + %.3f ms client)): cut at once, no linger",
                    s.population, s.arrival_batches_per_s, s.ack_mean_s * 1e3, s.round_trip_p50_s * 1e3);
    return {1, duration{0}};
  }
  if (!s.closed_loop) {
    rule = "open_loop";
    reason = format("arrivals do not follow acks (median gap/answer interval %.2f >= %.2f): group commit batches them as they come, cut at once",
                    s.closed_loop_score, cfg_.closed_loop_threshold);
    return {1, duration{0}};
  }
  const double want = std::floor(cfg_.population_fraction * s.population);
  policy p;
  p.min_batches = static_cast<uint32_t>(std::clamp(want, 1.0, static_cast<double>(cfg_.max_min_batches)));
  p.linger = std::clamp(from_secs(cfg_.linger_round_trips * s.round_trip_p90_s), cfg_.min_linger, cfg_.max_linger);
  rule = "cohort";
  reason = format("closed loop, %.1f batches in circulation (%.0f/s x (%.3f ms broker + %.3f ms client)), sync %.3f ms: "
                  "wait for %u batches, at most %.3f ms (%.1f x p90 round trip %.3f ms)",
                  s.population, s.arrival_batches_per_s, s.ack_mean_s * 1e3, s.round_trip_p50_s * 1e3, s.sync_mean_s * 1e3,
                  p.min_batches, secs(p.linger) * 1e3, cfg_.linger_round_trips, s.round_trip_p90_s * 1e3);
  return p;
}

decision controller::decide(time_point now) {
  decision d;
  d.at = now;
  d.seen = compute(now);
  const policy before = current_;

  if (d.seen.requests == 0 && d.seen.groups == 0) {
    const bool long_idle = !last_traffic_ || now - *last_traffic_ >= cfg_.idle_reset;
    if (long_idle && !(current_ == policy{})) {
      current_ = policy{};
      d.rule = "idle";
      d.reason = "no traffic for a while: back to cut-at-once so the next lone request pays no linger";
    } else {
      d.rule = "hold";
      d.reason = "no traffic in the window: nothing to learn from";
    }
  } else {
    std::string rule, reason;
    const policy want = target(d.seen, rule, reason);
    const double dm = relative_change(current_.min_batches, want.min_batches);
    const double dl = relative_change(static_cast<double>(current_.linger.count()), static_cast<double>(want.linger.count()));
    if (want.min_batches == 1 || current_.min_batches == 1 || dm > cfg_.jump_threshold) {
      // A regime change or a step in load: go to the model's setpoint at once (no windup to undo).
      current_ = want;
      d.rule = rule == "cohort" ? "cohort_jump" : rule;
      d.reason = reason;
    } else if (dm < cfg_.dead_band && dl < cfg_.dead_band) {
      d.rule = "hold";
      d.reason = "within the dead band of the setpoint (" + reason + ")";
    } else {
      // Small drift: move part of the way, so that noise in the estimate cannot make the policy ring.
      auto step = [&](double from, double to) {
        const double limit = std::max(1.0, cfg_.max_step * from);
        return from + std::clamp(to - from, -limit, limit);
      };
      current_.min_batches = static_cast<uint32_t>(std::lround(step(current_.min_batches, want.min_batches)));
      current_.linger = duration(static_cast<int64_t>(
          step(static_cast<double>(current_.linger.count()), static_cast<double>(want.linger.count()))));
      d.rule = "cohort_trim";
      d.reason = "trim toward the setpoint: " + reason;
    }
  }
  d.next = current_;
  d.changed = !(current_ == before);
  history_.push_back(d);
  if (history_.size() > cfg_.history) history_.pop_front();
  return d;
}

void controller::reset(const policy& p, time_point now) {
  current_ = p;
  decision d;
  d.at = now;
  d.next = p;
  d.changed = true;
  d.rule = "reset";
  d.reason = "resumed from the policy in force";
  history_.push_back(d);
  if (history_.size() > cfg_.history) history_.pop_front();
}

}  // namespace tuner
