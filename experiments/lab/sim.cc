#include "experiments/lab/sim.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "tuner/sim/simulator.h"

namespace lab {
namespace {

namespace po = boost::program_options;
using tuner::duration;

double secs(duration d) { return std::chrono::duration<double>(d).count(); }
double ms(duration d) { return secs(d) * 1e3; }

// "250us", "1ms", "1.5s", "800ns"; `what` names the flag in the error.
duration parse_duration(const std::string& v, const std::string& what) {
  char* end = nullptr;
  const double n = std::strtod(v.c_str(), &end);
  const std::string unit(end);
  double ns = -1;
  if (end == v.c_str()) ns = -1;
  else if (unit == "ns") ns = n;
  else if (unit == "us" || unit == "\u00b5s") ns = n * 1e3;
  else if (unit == "ms") ns = n * 1e6;
  else if (unit == "s") ns = n * 1e9;
  if (!(ns >= 0) || ns > 3600e9)
    throw std::invalid_argument(what + ": '" + v + "' is not a duration (a number with ns, us, ms or s, e.g. 1ms)");
  return duration(std::llround(ns));
}

// "1ms", "1ms±20%" or "1ms+-20%": a mean and a uniform spread around it.
tuner::sim::spread parse_spread(const std::string& s, const std::string& what) {
  std::string v = s, pct;
  for (const char* sep : {"\u00b1", "+-"}) {
    if (auto at = v.find(sep); at != std::string::npos) {
      pct = v.substr(at + std::string(sep).size());
      v = v.substr(0, at);
      break;
    }
  }
  tuner::sim::spread r{parse_duration(v, what), 0.0};
  if (!pct.empty()) {
    char* end = nullptr;
    const double p = std::strtod(pct.c_str(), &end);
    if (pct.back() != '%' || end != pct.c_str() + pct.size() - 1 || !(p >= 0) || p > 100)
      throw std::invalid_argument(what + ": '" + s +
                                  "': the spread must be a percentage from 0% to 100%, e.g. 1ms±20%");
    r.jitter = p / 100.0;
  }
  return r;
}

double parse_number(const std::string& v, const std::string& what, double lo, double hi) {
  char* end = nullptr;
  const double n = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(n >= lo) || n > hi)
    throw std::invalid_argument(what + ": '" + v + "' must be a number from " + std::to_string(lo) + " to " +
                                std::to_string(hi));
  return n;
}

// "AT:VALUE" of a repeatable step flag.
std::pair<duration, std::string> parse_step(const std::string& s, const std::string& what) {
  const auto colon = s.find(':');
  if (colon == std::string::npos)
    throw std::invalid_argument(what + ": '" + s + "' must be AT:VALUE, e.g. 3s:80 or 3s:5ms");
  return {parse_duration(s.substr(0, colon), what + " (time)"), s.substr(colon + 1)};
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string latency(double s) { return s < 1e-3 ? fmt("%.0fus", s * 1e6) : fmt("%.2fms", s * 1e3); }

std::string setpoint(const tuner::sim::result& r) {
  return std::to_string(r.final_policy.min_batches) + " / " + latency(secs(r.final_policy.linger));
}

void write_trace(const std::string& path, const tuner::sim::result& r) {
  std::ofstream out(path);
  if (!out) throw std::invalid_argument("--trace: cannot write '" + path + "'");
  out << "time_s,min_batches,linger_ms,changed,rule,population,arrival_batches_per_s,batches_per_group,"
         "busy_fraction,sync_mean_ms,sync_fixed_ms,sync_per_mib_ms,ack_p50_ms,ack_p99_ms,round_trip_p50_ms,"
         "round_trip_p90_ms,closed_loop_score,closed_loop,reason\n";
  for (auto& t : r.trace) {
    const auto& s = t.seen;
    std::string reason = t.reason;
    for (auto& c : reason)
      if (c == '"') c = '\'';
    out << secs(t.at) << ',' << t.min_batches << ',' << ms(t.linger) << ',' << t.changed << ',' << tuner::name(t.rule)
        << ',' << s.population << ',' << s.arrival_batches_per_s << ',' << s.batches_per_group << ',' << s.busy_fraction
        << ',' << s.sync_mean_s * 1e3 << ',' << s.sync_fixed_s * 1e3 << ',' << s.sync_per_mib_s * 1e3 << ','
        << s.ack_p50_s * 1e3 << ',' << s.ack_p99_s * 1e3 << ',' << s.round_trip_p50_s * 1e3 << ','
        << s.round_trip_p90_s * 1e3 << ',' << s.closed_loop_score << ',' << s.closed_loop << ",\"" << reason << "\"\n";
  }
}

nlohmann::json to_json(const tuner::sim::result& r) {
  nlohmann::json j{{"policy", r.policy},
                   {"measured_s", r.measured_s},
                   {"requests", r.requests},
                   {"batches", r.batches},
                   {"groups", r.groups},
                   {"requests_per_s", r.requests_per_s},
                   {"batches_per_s", r.batches_per_s},
                   {"mib_per_s", r.mib_per_s},
                   {"syncs_per_s", r.syncs_per_s},
                   {"batches_per_sync", r.batches_per_sync},
                   {"ack_p50_s", r.ack_p50_s},
                   {"ack_p99_s", r.ack_p99_s},
                   {"ack_mean_s", r.ack_mean_s},
                   {"ack_max_s", r.ack_max_s},
                   {"final_min_batches", r.final_policy.min_batches},
                   {"final_linger_s", secs(r.final_policy.linger)}};
  if (!r.trace.empty()) {
    j["final_rule"] = tuner::name(r.final_rule);
    j["final_reason"] = r.final_reason;
    auto& tr = j["trace"] = nlohmann::json::array();
    for (auto& t : r.trace)
      tr.push_back({{"t_s", secs(t.at)},
                    {"min_batches", t.min_batches},
                    {"linger_s", secs(t.linger)},
                    {"changed", t.changed},
                    {"rule", tuner::name(t.rule)},
                    {"reason", t.reason},
                    {"population", t.seen.population},
                    {"closed_loop", t.seen.closed_loop}});
  }
  auto& tl = j["timeline"] = nlohmann::json::array();
  for (auto& b : r.timeline)
    tl.push_back({{"t_s", secs(b.start)},
                  {"acks", b.acks},
                  {"batches_synced", b.batches_synced},
                  {"groups", b.groups},
                  {"ack_mean_s", b.ack_mean_s},
                  {"min_batches", b.min_batches},
                  {"linger_s", secs(b.linger)}});
  return j;
}

}  // namespace

int sim_main(int argc, const char* const* argv) {
  po::options_description opts("kairo-lab sim options");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help and exit")
    ("producers", po::value<std::string>(), "closed loop: this many producers, one request in flight each (default 64)")
    ("rate", po::value<std::string>(), "open loop instead: Poisson arrivals, requests per second")
    ("connections", po::value<std::string>()->default_value("16"), "open loop: connections the requests are spread over")
    ("round-trip", po::value<std::string>()->default_value("100us±20%"), "closed loop: client time from an ack to the next send, e.g. 100us or 100us±20%")
    ("sync", po::value<std::string>()->default_value("1ms±20%"), "fixed cost of one sync, e.g. 1ms or 5ms±20%")
    ("sync-per-mib", po::value<std::string>()->default_value("0ms"), "added sync time per MiB in the group, e.g. 0.5ms")
    ("message-size", po::value<std::string>()->default_value("256"), "bytes of one batch")
    ("batches-per-request", po::value<std::string>()->default_value("1"), "batches (partitions) in one produce request")
    ("second-producers", po::value<std::string>()->default_value("0"), "mixed load: a second closed-loop group of this many producers...")
    ("second-message-size", po::value<std::string>()->default_value("16384"), "...sending batches of this many bytes...")
    ("second-round-trip", po::value<std::string>()->default_value("1ms±20%"), "...with this client round trip")
    ("duration", po::value<std::string>()->default_value("10s"), "simulated time, warm-up included")
    ("warmup", po::value<std::string>()->default_value("1s"), "simulated time left out of the summary")
    ("seed", po::value<std::string>()->default_value("1"), "random seed; a given seed always gives the same result")
    ("policy", po::value<std::string>()->default_value("all"), "low-latency | balanced | high-throughput | auto | all (the three profiles and auto) | MIN/LINGER (e.g. 64/0.3ms)")
    ("step-load", po::value<std::vector<std::string>>()->composing(), "AT:C (closed loop) or AT:RATE (open loop): change the load at that time; repeatable")
    ("step-sync", po::value<std::vector<std::string>>()->composing(), "AT:SYNC, e.g. 3s:200ms or 3s:5ms±20%: change the sync time then; repeatable")
    ("trace", po::value<std::string>(), "write auto's decisions (time, setpoint, rule, signals, reason) to this CSV file")
    ("json", po::value<std::string>(), "write the scenario and every result (with trace and timeline) to this JSON file");
  // clang-format on
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout
        << "usage: kairo-lab sim [options]\n\nSimulates the produce path (producers, the flush decision, group commit, "
           "sync) in simulated time and compares batching policies. No broker or disk is involved.\n\n"
        << opts << std::endl;
    return 0;
  }
  auto get = [&](const char* k) { return vm[k].as<std::string>(); };

  tuner::sim::scenario sc;
  if (vm.count("producers") && vm.count("rate"))
    throw std::invalid_argument("give either --producers (closed loop) or --rate (open loop), not both");
  const bool open = vm.count("rate") > 0;
  if (open) {
    sc.offered.rate = parse_number(get("rate"), "--rate", 0.001, 1e7);
    sc.offered.connections = static_cast<uint32_t>(parse_number(get("connections"), "--connections", 1, 1e6));
  } else {
    sc.offered.producers =
        vm.count("producers") ? static_cast<uint32_t>(parse_number(get("producers"), "--producers", 1, 1e6)) : 64;
  }
  sc.offered.round_trip = parse_spread(get("round-trip"), "--round-trip");
  const auto sync = parse_spread(get("sync"), "--sync");
  const auto per_mib = parse_duration(get("sync-per-mib"), "--sync-per-mib");
  sc.sync = {sync.mean, per_mib, sync.jitter};
  sc.offered.message_bytes = static_cast<uint32_t>(parse_number(get("message-size"), "--message-size", 1, 64 << 20));
  sc.offered.batches_per_request =
      static_cast<uint32_t>(parse_number(get("batches-per-request"), "--batches-per-request", 1, 100000));
  sc.offered.second_producers =
      static_cast<uint32_t>(parse_number(get("second-producers"), "--second-producers", 0, 1e6));
  sc.offered.second_message_bytes =
      static_cast<uint32_t>(parse_number(get("second-message-size"), "--second-message-size", 1, 64 << 20));
  sc.offered.second_round_trip = parse_spread(get("second-round-trip"), "--second-round-trip");
  if (open && sc.offered.second_producers > 0)
    throw std::invalid_argument("--second-producers is a closed-loop group beside --producers, not beside --rate");
  sc.length = parse_duration(get("duration"), "--duration");
  sc.warmup = parse_duration(get("warmup"), "--warmup");
  if (sc.warmup >= sc.length) throw std::invalid_argument("--warmup must be shorter than --duration");
  sc.seed = static_cast<uint64_t>(parse_number(get("seed"), "--seed", 0, 9e15));
  if (vm.count("step-load")) {
    for (auto& v : vm["step-load"].as<std::vector<std::string>>()) {
      auto [at, val] = parse_step(v, "--step-load");
      tuner::sim::phase p{at};
      if (open) p.rate = parse_number(val, "--step-load (rate)", 0, 1e7);
      else p.producers = static_cast<uint32_t>(parse_number(val, "--step-load (producers)", 0, 1e6));
      sc.phases.push_back(p);
    }
  }
  if (vm.count("step-sync")) {
    for (auto& v : vm["step-sync"].as<std::vector<std::string>>()) {
      auto [at, val] = parse_step(v, "--step-sync");
      const auto s = parse_spread(val, "--step-sync (sync)");
      tuner::sim::phase p{at};
      p.sync = tuner::sim::sync_model{s.mean, per_mib, s.jitter};
      sc.phases.push_back(p);
    }
  }

  std::vector<tuner::sim::policy_choice> policies;
  const auto which = get("policy");
  if (which == "all") {
    policies = {tuner::sim::low_latency(), tuner::sim::balanced(), tuner::sim::high_throughput(),
                tuner::sim::auto_tuned()};
  } else if (auto p = tuner::sim::parse_policy(which)) {
    policies = {*p};
  } else {
    throw std::invalid_argument(
        "--policy: '" + which +
        "' is not low-latency, balanced, high-throughput, auto, all or MIN/LINGER (e.g. 64/0.3ms)");
  }
  if (vm.count("trace") && which != "auto" && which != "all")
    throw std::invalid_argument("--trace records auto's decisions: use it with --policy auto or all");

  std::vector<tuner::sim::result> results;
  for (auto& p : policies) {
    sc.policy = p;
    results.push_back(tuner::sim::run(sc));
  }

  std::printf("simulated %s: %s, sync %s%s%s, %u x %u B per request, %.1f s measured after %.1f s warm-up, seed %llu\n",
              open ? "open loop" : "closed loop",
              open ? (fmt("%.0f requests/s", sc.offered.rate) + " over " + std::to_string(sc.offered.connections) +
                      " connections")
                         .c_str()
                   : (std::to_string(sc.offered.producers) + (sc.offered.producers == 1 ? " producer" : " producers") +
                      ", round trip " + latency(secs(sc.offered.round_trip.mean)) +
                      fmt("±%.0f%%", sc.offered.round_trip.jitter * 100))
                         .c_str(),
              latency(secs(sc.sync.fixed)).c_str(), fmt("±%.0f%%", sc.sync.jitter * 100).c_str(),
              per_mib.count() ? (" + " + latency(secs(per_mib)) + "/MiB").c_str() : "", sc.offered.batches_per_request,
              sc.offered.message_bytes, secs(sc.length - sc.warmup), secs(sc.warmup),
              static_cast<unsigned long long>(sc.seed));
  if (!sc.phases.empty()) std::printf("phases: %zu steps (--step-load/--step-sync)\n", sc.phases.size());
  std::printf("\n%-16s %12s %12s %10s %10s %13s %10s  %s\n", "policy", "requests/s", "batches/s", "p50", "p99",
              "batches/sync", "syncs/s", "setpoint (min_batches / linger)");
  for (auto& r : results) {
    std::printf("%-16s %12.0f %12.0f %10s %10s %13.1f %10.0f  %s\n", r.policy.c_str(), r.requests_per_s,
                r.batches_per_s, latency(r.ack_p50_s).c_str(), latency(r.ack_p99_s).c_str(), r.batches_per_sync,
                r.syncs_per_s, setpoint(r).c_str());
  }
  for (auto& r : results)
    if (!r.trace.empty())
      std::printf("\n%s: final setpoint %s, rule %s: %s\n", r.policy.c_str(), setpoint(r).c_str(),
                  tuner::name(r.final_rule), r.final_reason.c_str());

  if (vm.count("trace")) {
    for (auto& r : results)
      if (!r.trace.empty()) write_trace(get("trace"), r);
  }
  if (vm.count("json")) {
    nlohmann::json j;
    j["scenario"] = {{"loop", open ? "open" : "closed"},
                     {"producers", sc.offered.producers},
                     {"rate", sc.offered.rate},
                     {"connections", sc.offered.connections},
                     {"round_trip_s", secs(sc.offered.round_trip.mean)},
                     {"round_trip_jitter", sc.offered.round_trip.jitter},
                     {"sync_s", secs(sc.sync.fixed)},
                     {"sync_jitter", sc.sync.jitter},
                     {"sync_per_mib_s", secs(per_mib)},
                     {"message_bytes", sc.offered.message_bytes},
                     {"batches_per_request", sc.offered.batches_per_request},
                     {"duration_s", secs(sc.length)},
                     {"warmup_s", secs(sc.warmup)},
                     {"seed", sc.seed},
                     {"simulated", true}};
    auto& ph = j["scenario"]["phases"] = nlohmann::json::array();
    for (auto& p : sc.phases) {
      nlohmann::json e{{"at_s", secs(p.at)}};
      if (p.producers) e["producers"] = *p.producers;
      if (p.rate) e["rate"] = *p.rate;
      if (p.sync) e["sync_s"] = secs(p.sync->fixed);
      ph.push_back(e);
    }
    auto& rs = j["results"] = nlohmann::json::array();
    for (auto& r : results) rs.push_back(to_json(r));
    std::ofstream out(get("json"));
    if (!out) throw std::invalid_argument("--json: cannot write '" + get("json") + "'");
    out << j.dump(2) << '\n';
  }
  return 0;
}

}  // namespace lab
