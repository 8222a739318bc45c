#include "server/tuning.h"

#include <spdlog/spdlog.h>

namespace server {
namespace {

double secs(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

prometheus::Gauge& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

template <class T>
void push_capped(std::vector<T>& v, const T& s, size_t cap) {
  if (v.size() < cap) v.push_back(s);
}

nlohmann::json to_json(const tuner::signals& s) {
  return {{"window_s", s.window_s},
          {"active_s", s.active_s},
          {"linger_cut_share", s.linger_cut_share},
          {"groups", s.groups},
          {"requests", s.requests},
          {"arrival_batches_per_s", s.arrival_batches_per_s},
          {"batches_per_group", s.batches_per_group},
          {"busy_fraction", s.busy_fraction},
          {"sync_mean_ms", s.sync_mean_s * 1e3},
          {"sync_p90_ms", s.sync_p90_s * 1e3},
          {"sync_model", {{"fixed_ms", s.sync_fixed_s * 1e3}, {"per_mib_ms", s.sync_per_mib_s * 1e3}}},
          {"ack_mean_ms", s.ack_mean_s * 1e3},
          {"ack_p50_ms", s.ack_p50_s * 1e3},
          {"ack_p99_ms", s.ack_p99_s * 1e3},
          {"round_trip_p50_ms", s.round_trip_p50_s * 1e3},
          {"round_trip_p90_ms", s.round_trip_p90_s * 1e3},
          {"closed_loop_score", s.closed_loop_score},
          {"closed_loop", s.closed_loop},
          {"population_batches", s.population},
          {"population_bytes", s.population_bytes},
          {"bytes_per_group", s.bytes_per_group},
          {"round_trip_spread_ms", s.round_trip_spread_s * 1e3}};
}

nlohmann::json to_json(const tuner::decision& d, std::chrono::nanoseconds epoch) {
  return {{"at_s", secs(d.at - epoch)},
          {"min_batches", d.next.min_batches},
          {"buffer_bytes", d.next.buffer_bytes},
          {"linger_ms", secs(d.next.linger) * 1e3},
          {"changed", d.changed},
          {"rule", tuner::name(d.rule)},
          {"reason", d.reason}};
}

std::chrono::nanoseconds since_epoch(std::chrono::steady_clock::time_point t) { return t.time_since_epoch(); }

}  // namespace

void tuning_feed::add(const tuner::group_sample& s) {
  std::lock_guard lock(mu_);
  push_capped(groups_, s, cap);
}
void tuning_feed::add(const engine::synced_group& s) {
  const auto& g = s.group;
  add(tuner::group_sample{std::chrono::steady_clock::now().time_since_epoch(), static_cast<uint32_t>(g.records),
                          g.bytes, s.sync_seen(), g.write, g.oldest_wait, g.idle_before,
                          g.reason == wal::flush_reason::linger});
}
void tuning_feed::add(const tuner::request_sample& s) {
  std::lock_guard lock(mu_);
  push_capped(requests_, s, cap);
}
void tuning_feed::add(const tuner::ack_sample& s) {
  std::lock_guard lock(mu_);
  push_capped(acks_, s, cap);
}

void tuning_feed::drain_into(tuner::controller& c) {
  std::vector<tuner::group_sample> g;
  std::vector<tuner::request_sample> r;
  std::vector<tuner::ack_sample> a;
  {
    std::lock_guard lock(mu_);
    g.swap(groups_);
    r.swap(requests_);
    a.swap(acks_);
  }
  for (auto& s : g) c.observe(s);
  for (auto& s : r) c.observe(s);
  for (auto& s : a) c.observe(s);
}

tuner_probe::tuner_probe(prometheus::Registry& r)
    : active(gauge(r, "kairo_tuner_active", "1 while the auto profile lets the tuner drive the policy")),
      min_batches(gauge(r, "kairo_tuner_min_batches", "The tuner's current min_batches setpoint")),
      linger_seconds(gauge(r, "kairo_tuner_linger_seconds", "The tuner's current linger setpoint")),
      decisions(
          prometheus::BuildCounter().Name("kairo_tuner_decisions_total").Help("Tuner decisions by rule").Register(r)),
      changes(prometheus::BuildCounter()
                  .Name("kairo_tuner_policy_changes_total")
                  .Help("Decisions that changed the policy")
                  .Register(r)
                  .Add({})),
      population(gauge(r, "kairo_tuner_population_batches",
                       "Estimated batches circulating between clients and the log (Little's law)")),
      round_trip_seconds(gauge(r, "kairo_tuner_round_trip_seconds",
                               "Median client round trip: a connection's produce answer to its next produce request")),
      sync_seconds(
          gauge(r, "kairo_tuner_sync_seconds", "Mean sync time over the tuner's window (with any simulated delay)")),
      sync_fixed_seconds(
          gauge(r, "kairo_tuner_sync_fixed_seconds", "Fitted fixed cost of a sync (recursive least squares)")),
      sync_per_mib_seconds(gauge(r, "kairo_tuner_sync_per_mib_seconds",
                                 "Fitted cost of a sync per MiB written (recursive least squares)")),
      arrival_batches_per_second(
          gauge(r, "kairo_tuner_arrival_batches_per_second", "Produce batches arriving per second")),
      closed_loop(gauge(r, "kairo_tuner_closed_loop", "1 when producers send in answer to acks (closed loop)")) {}

tuning_loop::tuning_loop(engine::produce_pipeline& pipeline, tuning_feed& feed, prometheus::Registry& registry,
                         tuner::config cfg)
    : pipeline_(pipeline), feed_(feed), probe_(registry), controller_(cfg) {}

void tuning_loop::tick(std::chrono::steady_clock::time_point now) {
  feed_.drain_into(controller_);
  const auto t = since_epoch(now);
  auto st = pipeline_.current();
  const bool is_auto = st.active == engine::profile::auto_tuned;
  if (is_auto && !was_auto_) controller_.reset({st.policy.min_batches, st.policy.linger, st.policy.buffer_bytes}, t);
  was_auto_ = is_auto;

  auto d = controller_.decide(t);
  last_ = d;
  probe_.active.Set(is_auto ? 1 : 0);
  probe_.decisions.Add({{"rule", tuner::name(d.rule)}}).Increment();
  probe_.min_batches.Set(d.next.min_batches);
  probe_.linger_seconds.Set(secs(d.next.linger));
  probe_.population.Set(d.seen.population);
  probe_.round_trip_seconds.Set(d.seen.round_trip_p50_s);
  probe_.sync_seconds.Set(d.seen.sync_mean_s);
  probe_.sync_fixed_seconds.Set(d.seen.sync_fixed_s);
  probe_.sync_per_mib_seconds.Set(d.seen.sync_per_mib_s);
  probe_.arrival_batches_per_second.Set(d.seen.arrival_batches_per_s);
  probe_.closed_loop.Set(d.seen.closed_loop ? 1 : 0);

  if (!is_auto) return;  // pinned: observe and explain, but do not drive
  if (st.policy.min_batches == d.next.min_batches && st.policy.linger == d.next.linger &&
      st.policy.buffer_bytes == d.next.buffer_bytes)
    return;
  auto p = st.policy;
  p.min_batches = d.next.min_batches;
  p.linger = d.next.linger;
  p.buffer_bytes = d.next.buffer_bytes;
  pipeline_.set_policy(engine::profile::auto_tuned, p, std::string("tuner (") + tuner::name(d.rule) + "): " + d.reason);
  probe_.changes.Increment();
  changes_.push_back(d);
  if (changes_.size() > 100) changes_.pop_front();
  spdlog::debug("tuner: min_batches={} linger={:.3f}ms ({}): {}", p.min_batches, secs(p.linger) * 1e3,
                tuner::name(d.rule), d.reason);
}

nlohmann::json tuning_loop::status() const {
  const auto epoch = since_epoch(std::chrono::steady_clock::now());
  nlohmann::json j;
  auto st = pipeline_.current();
  j["active"] = st.active == engine::profile::auto_tuned;
  j["note"] = j["active"].get<bool>() ? "the tuner drives min_batches and linger"
                                      : "a profile or explicit policy is pinned: the tuner observes but does not act "
                                        "(PUT /v1/produce/policy {\"profile\":\"auto\"} resumes it)";
  j["policy"] = {{"min_batches", st.policy.min_batches},
                 {"linger_ms", secs(st.policy.linger) * 1e3},
                 {"buffer_bytes", st.policy.buffer_bytes}};
  if (last_) {
    j["last_decision"] = to_json(*last_, epoch);
    j["signals"] = to_json(last_->seen);
  }
  auto& changes = j["changes"] = nlohmann::json::array();
  for (auto it = changes_.rbegin(); it != changes_.rend(); ++it) changes.push_back(to_json(*it, epoch));
  auto& recent = j["recent_decisions"] = nlohmann::json::array();
  for (auto it = controller_.history().rbegin(); it != controller_.history().rend(); ++it)
    recent.push_back(to_json(*it, epoch));
  j["time_base"] = "at_s is relative to now (negative: seconds ago)";
  return j;
}

}  // namespace server
