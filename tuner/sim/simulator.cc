#include "tuner/sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <queue>
#include <random>
#include <stdexcept>

namespace tuner::sim {
namespace {

constexpr double mib = 1024.0 * 1024.0;
// Weight of the newest interval in a connection's mean time between answers.

double secs(duration d) { return std::chrono::duration<double>(d).count(); }

// Uniform and exponential draws built on the raw 64-bit generator, so that the results are the
// same with every standard library (std:: distributions are implementation-defined).
class rng {
 public:
  explicit rng(uint64_t seed) : g_(seed) {}
  double uniform() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }  // [0, 1)
  duration around(duration mean, double jitter) {
    const double f = 1.0 + jitter * (2.0 * uniform() - 1.0);
    return duration(std::llround(static_cast<double>(mean.count()) * std::max(0.0, f)));
  }
  duration exponential(double per_s) { return duration(std::llround(-std::log1p(-uniform()) / per_s * 1e9)); }

 private:
  std::mt19937_64 g_;
};

enum class kind : uint8_t { phase, arrival, second_arrival, open_arrival, group_done, linger_check, decide };

struct event {
  time_point at;
  uint64_t seq;  // ties go in scheduling order: deterministic
  kind what;
  uint64_t arg;
  bool operator>(const event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

// A producer (closed loop) or a connection (open loop): what the server knows of it.
struct client {
  bool active = false;  // closed loop: sends again after its ack
  bool busy = false;    // closed loop: a send is scheduled or a request is in flight
  std::optional<time_point> last_answer;
};

struct request {
  time_point arrived;
  uint32_t client;
  bool open;
  bool second;  // of the second closed-loop group
  uint32_t batches;
  uint32_t remaining;
};

struct batch {
  uint64_t req;
  time_point enqueued;
  uint32_t bytes;
};

class simulation {
 public:
  explicit simulation(const scenario& s) : s_(s), rng_(s.seed), sync_(s.sync) {
    if (s.offered.batches_per_request == 0) throw std::invalid_argument("batches_per_request must be at least 1");
    if (s.length <= duration{0} || s.warmup < duration{0} || s.warmup >= s.length)
      throw std::invalid_argument("the warm-up must be shorter than the simulated time");
    if (s.bucket <= duration{0}) throw std::invalid_argument("the timeline bucket must be positive");
    if (s.policy.auto_tuned && s.policy.decide_every <= duration{0})
      throw std::invalid_argument("auto: decide_every must be positive");
    bool any_load = s.offered.producers > 0 || s.offered.rate > 0 || s.offered.second_producers > 0;
    for (auto& p : s.phases) any_load |= p.producers.value_or(0) > 0 || p.rate.value_or(0) > 0;
    if (!any_load) throw std::invalid_argument("no load: give producers (closed loop) or a rate (open loop)");
    if (s.offered.rate > 0 && s.offered.connections == 0) throw std::invalid_argument("open loop needs connections");
    policy_ = s.policy.fixed;
    caps_ = s.policy.caps;
    if (s.policy.auto_tuned) {
      ctl_.emplace(s.policy.tuner);
      apply(ctl_->current());
    }
    res_.policy = s.policy.name;
    res_.timeline.resize(static_cast<size_t>((s.length.count() + s.bucket.count() - 1) / s.bucket.count()));
    for (size_t i = 0; i < res_.timeline.size(); ++i) res_.timeline[i].start = s.bucket * static_cast<int64_t>(i);
    open_.resize(std::max<uint32_t>(1, s.offered.connections));
  }

  result run() {
    for (size_t i = 0; i < s_.phases.size(); ++i) schedule(s_.phases[i].at, kind::phase, i);
    set_producers(time_point{0}, s_.offered.producers);
    second_.resize(s_.offered.second_producers);
    for (uint32_t i = 0; i < second_.size(); ++i) {
      second_[i].active = second_[i].busy = true;
      schedule(duration(std::llround(rng_.uniform() * static_cast<double>(s_.offered.second_round_trip.mean.count()))),
               kind::second_arrival, i);
    }
    set_rate(time_point{0}, s_.offered.rate);
    if (ctl_) schedule(s_.policy.decide_every, kind::decide, 0);
    while (!events_.empty() && events_.top().at <= s_.length) {
      const event e = events_.top();
      events_.pop();
      handle(e);
    }
    return finish();
  }

 private:
  void schedule(time_point at, kind what, uint64_t arg) { events_.push(event{at, seq_++, what, arg}); }

  void handle(const event& e) {
    switch (e.what) {
      case kind::phase: {
        const phase& p = s_.phases[e.arg];
        if (p.sync) sync_ = *p.sync;
        if (p.producers) set_producers(e.at, *p.producers);
        if (p.rate) set_rate(e.at, *p.rate);
        break;
      }
      case kind::arrival: {
        client& c = closed_[e.arg];
        if (!c.active) {  // stopped by a step down before it could send
          c.busy = false;
          break;
        }
        arrive(e.at, static_cast<uint32_t>(e.arg), false);
        break;
      }
      case kind::second_arrival: arrive(e.at, static_cast<uint32_t>(e.arg), false, true); break;
      case kind::open_arrival:
        if (e.arg != rate_epoch_) break;  // a rate change started a new arrival process
        arrive(e.at, static_cast<uint32_t>(rng_.uniform() * static_cast<double>(open_.size())), true);
        schedule(e.at + rng_.exponential(rate_), kind::open_arrival, rate_epoch_);
        break;
      case kind::group_done: complete(e.at); break;
      case kind::linger_check:
        if (e.arg == linger_epoch_) try_cut(e.at);
        break;
      case kind::decide: decide(e.at); break;
    }
  }

  void set_producers(time_point now, uint32_t n) {
    if (closed_.size() < n) closed_.resize(n);
    for (uint32_t i = 0; i < closed_.size(); ++i) {
      client& c = closed_[i];
      c.active = i < n;
      if (c.active && !c.busy) {
        // A new producer starts within one round trip, so that a step does not arrive as one burst.
        c.busy = true;
        schedule(now + duration(std::llround(rng_.uniform() * static_cast<double>(s_.offered.round_trip.mean.count()))),
                 kind::arrival, i);
      }
    }
  }

  void set_rate(time_point now, double rate) {
    rate_ = rate;
    ++rate_epoch_;
    if (rate > 0) schedule(now + rng_.exponential(rate), kind::open_arrival, rate_epoch_);
  }

  void arrive(time_point now, uint32_t who, bool open, bool second = false) {
    client& c = second ? second_[who] : open ? open_[who] : closed_[who];
    const uint32_t n = second ? 1 : s_.offered.batches_per_request;
    const uint32_t size = second ? s_.offered.second_message_bytes : s_.offered.message_bytes;
    const uint64_t id = first_request_ + requests_.size();
    requests_.push_back(request{now, who, open, second, n, n});
    for (uint32_t i = 0; i < n; ++i) {
      pending_.push_back(batch{id, now, size});
      pending_bytes_ += size;
    }
    if (ctl_) {
      request_sample r;
      r.arrived = now;
      r.batches = n;
      r.bytes = uint64_t{n} * size;
      if (c.last_answer) r.gap = now - *c.last_answer;
      ctl_->observe(r);
    }
    try_cut(now);
  }

  // The server's decision point: the log is free and something may be cut.
  void try_cut(time_point now) {
    if (writing_ || pending_.empty()) return;
    const wal::pending_state p{pending_.size(), pending_bytes_, now - pending_.front().enqueued};
    if (auto reason = wal::should_cut(p, policy_)) {
      cut(now, *reason == wal::flush_reason::linger);
      return;
    }
    // Wait out the linger of the oldest batch; an arrival or a policy change may cut earlier.
    ++linger_epoch_;
    schedule(pending_.front().enqueued + policy_.linger, kind::linger_check, linger_epoch_);
  }

  void cut(time_point now, bool by_linger) {
    ++linger_epoch_;
    group_.clear();
    uint64_t bytes = 0;
    // Like the WAL: records in order up to the group caps, and always at least one.
    while (!pending_.empty() && group_.size() < caps_.max_records &&
           (group_.empty() || bytes + pending_.front().bytes <= caps_.max_bytes)) {
      bytes += pending_.front().bytes;
      group_.push_back(pending_.front());
      pending_.pop_front();
    }
    pending_bytes_ -= bytes;
    const double m = static_cast<double>(bytes) / mib;
    const auto write = s_.write.fixed + duration(std::llround(static_cast<double>(s_.write.per_mib.count()) * m));
    const auto sync =
        rng_.around(sync_.fixed + duration(std::llround(static_cast<double>(sync_.per_mib.count()) * m)), sync_.jitter);
    group_info_ = group_sample{now + write + sync,
                               static_cast<uint32_t>(group_.size()),
                               bytes,
                               sync,
                               write,
                               now - group_.front().enqueued,
                               now - idle_since_,
                               by_linger};
    writing_ = true;
    schedule(group_info_.done, kind::group_done, 0);
  }

  void complete(time_point now) {
    writing_ = false;
    idle_since_ = now;
    const bool measured = now >= s_.warmup;
    bucket_stats& b = bucket(now);
    b.groups++;
    b.batches_synced += group_.size();
    if (measured) {
      res_.groups++;
      res_.batches += group_.size();
      bytes_ += group_info_.bytes;
    }
    if (ctl_) ctl_->observe(group_info_);
    for (const batch& g : group_)
      if (--requests_[g.req - first_request_].remaining == 0) answer(now, g.req);
    group_.clear();
    // Groups are cut in arrival order, so answered requests leave from the front.
    while (!requests_.empty() && requests_.front().remaining == 0) {
      requests_.pop_front();
      ++first_request_;
    }
    try_cut(now);
  }

  void answer(time_point now, uint64_t id) {
    const request& r = requests_[id - first_request_];
    const duration latency = now - r.arrived;
    bucket_stats& b = bucket(now);
    b.acks++;
    b.ack_mean_s += secs(latency);  // a sum until finish()
    if (now >= s_.warmup) latencies_.push_back(latency.count());
    if (ctl_) ctl_->observe(ack_sample{now, r.batches, latency});
    client& c = r.second ? second_[r.client] : r.open ? open_[r.client] : closed_[r.client];
    c.last_answer = now;
    if (r.open) return;
    if (r.second) {
      schedule(now + rng_.around(s_.offered.second_round_trip.mean, s_.offered.second_round_trip.jitter),
               kind::second_arrival, r.client);
      return;
    }
    if (c.active) {
      schedule(now + rng_.around(s_.offered.round_trip.mean, s_.offered.round_trip.jitter), kind::arrival, r.client);
    } else {
      c.busy = false;
    }
  }

  void decide(time_point now) {
    const decision d = ctl_->decide(now);
    res_.trace.push_back(
        trace_point{now, d.next.min_batches, d.next.linger, d.next.buffer_bytes, d.changed, d.rule, d.reason, d.seen});
    apply(d.next);
    if (d.changed) try_cut(now);  // a smaller min_batches or shorter linger may cut at once
    schedule(now + s_.policy.decide_every, kind::decide, 0);
  }

  void apply(const tuner::policy& p) {
    policy_.min_batches = std::max<uint32_t>(1, p.min_batches);
    policy_.linger = p.linger;
    policy_.buffer_bytes = p.buffer_bytes;
  }

  bucket_stats& bucket(time_point now) {
    const auto i = static_cast<size_t>(now.count() / s_.bucket.count());
    return res_.timeline[std::min(i, res_.timeline.size() - 1)];
  }

  result finish() {
    res_.measured_s = secs(s_.length - s_.warmup);
    res_.requests = latencies_.size();
    res_.requests_per_s = static_cast<double>(res_.requests) / res_.measured_s;
    res_.batches_per_s = static_cast<double>(res_.batches) / res_.measured_s;
    res_.mib_per_s = static_cast<double>(bytes_) / mib / res_.measured_s;
    res_.syncs_per_s = static_cast<double>(res_.groups) / res_.measured_s;
    res_.batches_per_sync = res_.groups ? static_cast<double>(res_.batches) / static_cast<double>(res_.groups) : 0;
    if (!latencies_.empty()) {
      auto rank = [&](double q) {  // nearest rank: exact on the recorded samples
        auto k = static_cast<size_t>(std::ceil(q * static_cast<double>(latencies_.size())));
        k = std::clamp<size_t>(k, 1, latencies_.size()) - 1;
        std::nth_element(latencies_.begin(), latencies_.begin() + static_cast<std::ptrdiff_t>(k), latencies_.end());
        return static_cast<double>(latencies_[k]) / 1e9;
      };
      res_.ack_p50_s = rank(0.50);
      res_.ack_p99_s = rank(0.99);
      res_.ack_max_s = static_cast<double>(*std::max_element(latencies_.begin(), latencies_.end())) / 1e9;
      double sum = 0;
      for (int64_t v : latencies_) sum += static_cast<double>(v);
      res_.ack_mean_s = sum / static_cast<double>(latencies_.size()) / 1e9;
    }
    res_.final_policy = {policy_.min_batches, policy_.linger};
    if (!res_.trace.empty()) {
      res_.final_rule = res_.trace.back().rule;
      res_.final_reason = res_.trace.back().reason;
    }
    size_t t = 0;
    tuner::policy in_force =
        ctl_ ? tuner::policy{} : tuner::policy{s_.policy.fixed.min_batches, s_.policy.fixed.linger};
    for (auto& b : res_.timeline) {
      if (b.acks) b.ack_mean_s /= static_cast<double>(b.acks);
      while (t < res_.trace.size() && res_.trace[t].at <= b.start + s_.bucket) {
        in_force = {res_.trace[t].min_batches, res_.trace[t].linger};
        ++t;
      }
      b.min_batches = in_force.min_batches;
      b.linger = in_force.linger;
    }
    return std::move(res_);
  }

  const scenario& s_;
  rng rng_;
  sync_model sync_;
  wal::flush_policy policy_;
  wal::group_caps caps_;
  std::optional<tuner::controller> ctl_;
  std::priority_queue<event, std::vector<event>, std::greater<>> events_;
  uint64_t seq_ = 0;

  std::vector<client> closed_, open_, second_;
  double rate_ = 0;
  uint64_t rate_epoch_ = 0;
  std::deque<request> requests_;  // not yet answered, from id first_request_ on
  uint64_t first_request_ = 0;

  std::deque<batch> pending_;
  uint64_t pending_bytes_ = 0;
  uint64_t linger_epoch_ = 0;  // only the newest linger check counts
  bool writing_ = false;       // a group is being written and synced
  std::vector<batch> group_;
  group_sample group_info_;
  time_point idle_since_{0};

  result res_;
  std::vector<int64_t> latencies_;
  uint64_t bytes_ = 0;
};

}  // namespace

policy_choice low_latency() {
  policy_choice p;
  p.name = "low-latency";
  p.fixed.min_batches = 1;
  p.fixed.linger = 10ms;
  p.fixed.buffer_bytes = wal::default_buffer_bytes;
  return p;
}

policy_choice balanced() {
  policy_choice p;
  p.name = "balanced";
  p.fixed.min_batches = 10;
  p.fixed.linger = 100ms;
  p.fixed.buffer_bytes = 32u << 20;
  return p;
}

policy_choice high_throughput() {
  policy_choice p;
  p.name = "high-throughput";
  p.fixed.min_batches = 100;
  p.fixed.linger = 500ms;
  p.fixed.buffer_bytes = 128u << 20;
  return p;
}

policy_choice auto_tuned(tuner::config c) {
  policy_choice p;
  p.name = "auto";
  p.auto_tuned = true;
  p.fixed.buffer_bytes = tuner::buffer_cap;  // the cap within which auto chooses
  p.tuner = c;
  return p;
}

policy_choice fixed_policy(uint32_t min_batches, duration linger) {
  policy_choice p;
  p.fixed.min_batches = std::max<uint32_t>(1, min_batches);
  p.fixed.linger = linger;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%u/%gms", p.fixed.min_batches, secs(linger) * 1e3);
  p.name = buf;
  return p;
}

std::optional<policy_choice> parse_policy(const std::string& s) {
  if (s == "low-latency") return low_latency();
  if (s == "balanced") return balanced();
  if (s == "high-throughput") return high_throughput();
  if (s == "auto") return auto_tuned();
  const auto slash = s.find('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  char* end = nullptr;
  const std::string m = s.substr(0, slash), l = s.substr(slash + 1);
  const long long n = std::strtoll(m.c_str(), &end, 10);
  if (*end != '\0' || n < 1 || n > 1000000) return std::nullopt;
  const double v = std::strtod(l.c_str(), &end);
  const std::string unit(end);
  double ns;
  if (unit == "us") ns = v * 1e3;
  else if (unit == "ms" || unit.empty()) ns = v * 1e6;
  else if (unit == "s") ns = v * 1e9;
  else return std::nullopt;
  if (l.empty() || !(ns >= 0) || ns > 60e9) return std::nullopt;
  return fixed_policy(static_cast<uint32_t>(n), duration(std::llround(ns)));
}

result run(const scenario& s) { return simulation(s).run(); }

}  // namespace tuner::sim
