#include "experiments/lab/oracle.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/program_options.hpp>

namespace lab::oracle {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tuner::duration;

constexpr double mib = 1024.0 * 1024.0;

double secs(duration d) { return std::chrono::duration<double>(d).count(); }

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string latency(double s) { return s < 1e-3 ? fmt("%.0f µs", s * 1e6) : fmt("%.2f ms", s * 1e3); }

// The storage classes as the experiment runner has them: the native disk's measured cost
// (docs/benchmarks.md, "The disk, measured": append + fdatasync, 135 µs at 4 KiB, 461 µs at
// 256 KiB, so ~130 µs + ~1.3 ms/MiB) plus the simulated delay of cloud (1 ms) and hdd (5 ms).
tuner::sim::sync_model storage_model(const std::string& name) {
  tuner::sim::sync_model m;
  m.per_mib = 1300us;
  m.jitter = 0.2;
  if (name == "native") m.fixed = 130us;
  else if (name == "cloud") m.fixed = 1130us;
  else if (name == "hdd") m.fixed = 5130us;
  else throw std::invalid_argument("unknown storage class '" + name + "'");
  return m;
}

// Batches in circulation when every producer has one in flight.
uint32_t population(const grid_point& p) { return p.scenario.offered.producers + p.scenario.offered.second_producers; }

std::string point_name(const grid_point& p) {
  return p.storage + " " + p.shape + " " + std::to_string(p.message_bytes) + " B c" + std::to_string(p.concurrency);
}

}  // namespace

std::vector<grid_point> make_grid(bool quick, duration length, duration warmup, tuner::sim::spread round_trip,
                                  uint64_t seed) {
  const std::vector<std::string> storages =
      quick ? std::vector<std::string>{"native", "cloud"} : std::vector<std::string>{"native", "cloud", "hdd"};
  const std::vector<uint32_t> sizes =
      quick ? std::vector<uint32_t>{256, 4096} : std::vector<uint32_t>{256, 1024, 4096, 16384};
  const std::vector<uint32_t> conc =
      quick ? std::vector<uint32_t>{1, 64} : std::vector<uint32_t>{1, 8, 32, 64, 128, 256};
  const std::vector<std::string> shapes = quick ? std::vector<std::string>{"steady", "mixed"}
                                                : std::vector<std::string>{"steady", "bursty", "mixed", "many"};
  std::vector<grid_point> grid;
  for (auto& st : storages)
    for (auto size : sizes)
      for (auto& shape : shapes)
        for (auto c : shape == "many" ? std::vector<uint32_t>{1000} : conc) {
          grid_point p{st, shape, size, c, {}};
          auto& sc = p.scenario;
          sc.sync = storage_model(st);
          sc.length = length;
          sc.warmup = warmup;
          sc.seed = seed;
          sc.offered.producers = c;
          sc.offered.message_bytes = size;
          sc.offered.round_trip = round_trip;
          if (shape == "bursty") {
            // On 400 ms, off 200 ms: the producers stop after their ack and start again together.
            for (duration t = 400ms; t < length; t += 600ms) {
              sc.phases.push_back({t, 0u, std::nullopt, std::nullopt});
              sc.phases.push_back({t + 200ms, c, std::nullopt, std::nullopt});
            }
          } else if (shape == "mixed") {
            // A second group: an eighth as many producers, with 16 KiB batches (256 B beside a
            // 16 KiB first group) and a round trip of 1 ms, so a different size and rate.
            sc.offered.second_producers = std::max<uint32_t>(1, c / 8);
            sc.offered.second_message_bytes = size >= 16384 ? 256 : 16384;
            sc.offered.second_round_trip = {1ms, 0.2};
          }
          grid.push_back(std::move(p));
        }
  return grid;
}

std::vector<tuner::sim::policy_choice> policy_grid(const grid_point& p) {
  std::vector<tuner::sim::policy_choice> out{tuner::sim::fixed_policy(1, 0us)};
  const uint32_t n = population(p);
  if (n < 2) return out;
  const auto& sc = p.scenario;
  const double bytes = static_cast<double>(sc.offered.producers) * sc.offered.message_bytes +
                       static_cast<double>(sc.offered.second_producers) * sc.offered.second_message_bytes;
  const duration f = sc.sync.fixed + duration(std::llround(static_cast<double>(sc.sync.per_mib.count()) * bytes / mib));
  std::vector<uint32_t> mins;
  for (double share : {0.25, 0.5, 0.75, 1.0}) {
    const auto m = std::max<uint32_t>(2, static_cast<uint32_t>(std::lround(share * n)));
    if (std::find(mins.begin(), mins.end(), m) == mins.end()) mins.push_back(m);
  }
  for (auto m : mins)
    for (double syncs : {0.5, 1.0, 2.0, 4.0}) {
      auto l = duration(std::llround(static_cast<double>(f.count()) * syncs));
      l = std::clamp<duration>(l, 20us, 20ms);
      l = std::chrono::duration_cast<std::chrono::microseconds>(l);  // readable names
      out.push_back(tuner::sim::fixed_policy(m, l));
    }
  return out;
}

regret judge(const grid_point& p, const std::vector<tuner::sim::result>& fixed, const tuner::sim::result& auto_run) {
  if (fixed.empty()) throw std::invalid_argument("judge: no fixed policy was run");
  auto is_profile = [](const tuner::sim::result& r) {
    return r.policy == "low-latency" || r.policy == "balanced" || r.policy == "high-throughput";
  };
  double top = 0;
  for (auto& r : fixed) top = std::max(top, r.batches_per_s);
  const tuner::sim::result* best = nullptr;
  const tuner::sim::result* profile = nullptr;
  for (auto& r : fixed) {
    if (r.batches_per_s >= 0.99 * top && (!best || r.ack_p99_s < best->ack_p99_s)) best = &r;
    if (is_profile(r) && (!profile || r.batches_per_s > profile->batches_per_s)) profile = &r;
  }
  regret g;
  g.point = &p;
  g.oracle = *best;
  g.best_profile = profile ? *profile : *best;
  g.auto_tuned = auto_run;
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  g.vs_oracle = ratio(auto_run.batches_per_s, best->batches_per_s);
  g.p99_vs_oracle = ratio(auto_run.ack_p99_s, best->ack_p99_s);
  g.vs_profile = ratio(auto_run.batches_per_s, g.best_profile.batches_per_s);
  g.met_oracle = g.vs_oracle >= 0.95;
  g.met_p99 = g.p99_vs_oracle <= 1.1;
  g.met_profile = g.vs_profile >= 0.98;
  return g;
}

namespace {

std::string utc_stamp() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", std::gmtime(&t));
  return buf;
}

std::string policy_of(const tuner::sim::result& r) {
  return std::to_string(r.final_policy.min_batches) + "/" + latency(secs(r.final_policy.linger));
}

void write_runs(const std::string& path, const std::vector<grid_point>& grid,
                const std::vector<std::vector<tuner::sim::result>>& runs) {
  std::ofstream out(path);
  out << "storage,shape,message_bytes,concurrency,policy,msgs_per_s,mib_per_s,p50_ms,p99_ms,batches_per_sync,"
         "final_min_batches,final_linger_ms\n";
  for (size_t i = 0; i < grid.size(); ++i)
    for (auto& r : runs[i])
      out << grid[i].storage << ',' << grid[i].shape << ',' << grid[i].message_bytes << ',' << grid[i].concurrency
          << ',' << r.policy << ',' << r.batches_per_s << ',' << r.mib_per_s << ',' << r.ack_p50_s * 1e3 << ','
          << r.ack_p99_s * 1e3 << ',' << r.batches_per_sync << ',' << r.final_policy.min_batches << ','
          << secs(r.final_policy.linger) * 1e3 << '\n';
}

void write_regret_csv(const std::string& path, const std::vector<regret>& rs) {
  std::ofstream out(path);
  out << "storage,shape,message_bytes,concurrency,oracle,oracle_msgs_per_s,oracle_p99_ms,best_profile,"
         "best_profile_msgs_per_s,auto_msgs_per_s,auto_p99_ms,auto_final,auto_rule,vs_oracle,p99_vs_oracle,vs_profile,"
         "met_oracle,met_p99,met_profile\n";
  for (auto& g : rs)
    out << g.point->storage << ',' << g.point->shape << ',' << g.point->message_bytes << ',' << g.point->concurrency
        << ',' << g.oracle.policy << ',' << g.oracle.batches_per_s << ',' << g.oracle.ack_p99_s * 1e3 << ','
        << g.best_profile.policy << ',' << g.best_profile.batches_per_s << ',' << g.auto_tuned.batches_per_s << ','
        << g.auto_tuned.ack_p99_s * 1e3 << ',' << policy_of(g.auto_tuned) << ',' << tuner::name(g.auto_tuned.final_rule)
        << ',' << g.vs_oracle << ',' << g.p99_vs_oracle << ',' << g.vs_profile << ',' << g.met_oracle << ','
        << g.met_p99 << ',' << g.met_profile << '\n';
}

std::string mark(bool met) { return met ? "" : " ✗"; }

void write_regret_md(const std::string& path, const std::string& command, const std::vector<regret>& rs,
                     const tuner::sim::scenario& first, size_t runs) {
  std::ofstream md(path);
  size_t met_o = 0, met_p = 0, met_b = 0, all = 0;
  for (auto& g : rs) {
    met_o += g.met_oracle;
    met_p += g.met_p99;
    met_b += g.met_profile;
    all += g.met_oracle && g.met_p99 && g.met_profile;
  }
  md << "# auto against the oracle (simulated)\n\n```sh\n" << command << "\n```\n\n";
  md << rs.size() << " points, " << runs << " simulated runs of " << secs(first.length - first.warmup)
     << " s each after " << secs(first.warmup) << " s warm-up, seed " << first.seed << ", client round trip "
     << latency(secs(first.offered.round_trip.mean)) << " ±" << first.offered.round_trip.jitter * 100 << " %.\n\n";
  md << "- auto ≥ 0.95× the oracle's msg/s: **" << met_o << " of " << rs.size() << "** points\n";
  md << "- auto's p99 ≤ 1.1× the oracle's: **" << met_p << " of " << rs.size() << "**\n";
  md << "- auto ≥ 0.98× the best profile's msg/s: **" << met_b << " of " << rs.size() << "**\n";
  md << "- all three: **" << all << " of " << rs.size() << "**\n\n";
  md << "| storage | shape | size | conc | oracle (min/linger) | oracle msg/s | best profile | auto msg/s | auto "
        "setpoint | rule | ÷ oracle | p99 ÷ oracle | ÷ best profile "
        "|\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (auto& g : rs)
    md << "| " << g.point->storage << " | " << g.point->shape << " | " << g.point->message_bytes << " | "
       << g.point->concurrency << " | " << g.oracle.policy << " | " << fmt("%.0f", g.oracle.batches_per_s) << " | "
       << g.best_profile.policy << " | " << fmt("%.0f", g.auto_tuned.batches_per_s) << " | " << policy_of(g.auto_tuned)
       << " | " << tuner::name(g.auto_tuned.final_rule) << " | " << fmt("%.3f", g.vs_oracle) << mark(g.met_oracle)
       << " | " << fmt("%.2f", g.p99_vs_oracle) << mark(g.met_p99) << " | " << fmt("%.3f", g.vs_profile)
       << mark(g.met_profile) << " |\n";
}

// plots/vs-oracle-<storage>.png: auto's msg/s over the oracle's against concurrency, one line per
// shape and size; the target as a dashed line.
std::vector<std::string> write_plots(const std::string& dir, const std::vector<regret>& rs) {
  fs::create_directories(dir + "/plots/data");
  std::map<std::string, std::map<std::string, std::vector<const regret*>>> by;  // storage -> line -> points
  for (auto& g : rs)
    by[g.point->storage][g.point->shape + " " + std::to_string(g.point->message_bytes) + " B"].push_back(&g);
  std::vector<std::string> images;
  const bool have = std::system("gnuplot --version > /dev/null 2>&1") == 0;
  for (auto& [storage, lines] : by) {
    std::ostringstream gp;
    gp << "set terminal pngcairo size 1100,650 font 'sans,10'\nset output 'vs-oracle-" << storage << ".png'\n"
       << "set title 'auto ÷ oracle (msg/s), simulated, storage " << storage << "'\nset logscale x 2\n"
       << "set xlabel 'concurrency (producers)'\nset ylabel 'auto msg/s ÷ oracle msg/s'\nset yrange [0:1.2]\n"
       << "set key outside right\nset grid\nplot 0.95 with lines dt 2 lc rgb 'red' title 'target 0.95'";
    for (auto& [line, pts] : lines) {
      std::string file = line;
      for (auto& c : file)
        if (c == ' ') c = '-';
      const std::string name = "data/vs-oracle-" + storage + "-" + file + ".dat";
      std::ofstream d(dir + "/plots/" + name);
      d << "# concurrency vs_oracle p99_vs_oracle\n";
      for (auto* g : pts) d << g->point->concurrency << ' ' << g->vs_oracle << ' ' << g->p99_vs_oracle << '\n';
      gp << ", '" << name << "' using 1:2 with linespoints title '" << line << "'";
    }
    gp << '\n';
    const std::string script = "vs-oracle-" + storage + ".gp";
    std::ofstream(dir + "/plots/" + script) << gp.str();
    if (have &&
        std::system(("cd '" + dir + "/plots' && gnuplot '" + script + "' > '" + script + ".log' 2>&1").c_str()) == 0)
      images.push_back("plots/vs-oracle-" + storage + ".png");
  }
  return images;
}

}  // namespace

int oracle_main(int argc, const char* const* argv) {
  po::options_description opts("kairo-lab oracle options");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help and exit")
    ("quick", "a corner of the grid (native and cloud, 256 B and 4 KiB, steady and mixed, concurrency 1 and 64)")
    ("out", po::value<std::string>(), "result folder (default experiments/results/oracle/<UTC timestamp>)")
    ("jobs", po::value<unsigned>()->default_value(std::max(1u, std::thread::hardware_concurrency())), "simulations run at once")
    ("duration", po::value<double>()->default_value(10.0), "simulated seconds per run, warm-up included")
    ("warmup", po::value<double>()->default_value(8.0), "simulated seconds left out of each run's figures (long enough for auto's early guardrail trial to finish)")
    ("round-trip-us", po::value<double>()->default_value(100), "the clients' round trip R in µs (±20 %)")
    ("seed", po::value<uint64_t>()->default_value(1), "random seed; the same seed gives the same tables");
  // clang-format on
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << "usage: kairo-lab oracle [options]\n\nSimulates every point of the tuner's grid under a grid of fixed "
                 "policies, the three profiles and auto, and writes auto's regret against the best fixed policy (the "
                 "oracle) and the best profile.\n\n"
              << opts << std::endl;
    return 0;
  }
  const double length = vm["duration"].as<double>(), warm = vm["warmup"].as<double>();
  if (!(warm >= 0) || !(length > warm) || length > 600)
    throw std::invalid_argument("--warmup must be shorter than --duration (at most 600 s)");
  const double rt = vm["round-trip-us"].as<double>();
  if (!(rt > 0) || rt > 1e6) throw std::invalid_argument("--round-trip-us must be between 0 and 1,000,000");
  const bool quick = vm.count("quick") > 0;
  const auto grid = make_grid(quick, duration(std::llround(length * 1e9)), duration(std::llround(warm * 1e9)),
                              {duration(std::llround(rt * 1e3)), 0.2}, vm["seed"].as<uint64_t>());
  const std::string dir = vm.count("out") ? vm["out"].as<std::string>() : "experiments/results/oracle/" + utc_stamp();
  fs::create_directories(dir);

  // Every run of every point, as one flat list of tasks.
  struct task {
    size_t point;
    tuner::sim::policy_choice policy;
  };
  std::vector<task> tasks;
  std::vector<size_t> fixed_count(grid.size());
  for (size_t i = 0; i < grid.size(); ++i) {
    auto pol = policy_grid(grid[i]);
    for (auto p : {tuner::sim::low_latency(), tuner::sim::balanced(), tuner::sim::high_throughput()}) pol.push_back(p);
    fixed_count[i] = pol.size();
    pol.push_back(tuner::sim::auto_tuned());
    for (auto& p : pol) tasks.push_back({i, std::move(p)});
  }
  std::vector<std::vector<tuner::sim::result>> runs(grid.size());
  for (size_t i = 0; i < grid.size(); ++i) runs[i].resize(fixed_count[i] + 1);
  std::vector<size_t> slot(tasks.size());
  {
    std::vector<size_t> next(grid.size(), 0);
    for (size_t t = 0; t < tasks.size(); ++t) slot[t] = next[tasks[t].point]++;
  }
  std::fprintf(stderr, "oracle: %zu points, %zu simulated runs, %u at once, into %s\n", grid.size(), tasks.size(),
               vm["jobs"].as<unsigned>(), dir.c_str());

  std::atomic<size_t> next{0}, done{0};
  std::mutex err_mu;
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  auto work = [&] {
    for (size_t t; (t = next.fetch_add(1)) < tasks.size();) {
      try {
        auto sc = grid[tasks[t].point].scenario;
        sc.policy = tasks[t].policy;
        auto r = tuner::sim::run(sc);
        r.trace.clear();  // keep memory flat: the table needs the summary only
        r.timeline.clear();
        runs[tasks[t].point][slot[t]] = std::move(r);
      } catch (const std::exception& e) {
        std::lock_guard lk(err_mu);
        error = point_name(grid[tasks[t].point]) + " " + tasks[t].policy.name + ": " + e.what();
      }
      ++done;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned j = 0; j < std::max(1u, vm["jobs"].as<unsigned>()); ++j) pool.emplace_back(work);
  for (size_t last = 0; done.load() < tasks.size();) {
    std::this_thread::sleep_for(200ms);
    const size_t d = done.load();
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (el >= 5.0 * static_cast<double>(last + 1) && d < tasks.size()) {
      last = static_cast<size_t>(el / 5.0);
      std::fprintf(stderr, "oracle: %zu/%zu runs, %.0f s, about %.0f s left\n", d, tasks.size(), el,
                   d ? el / static_cast<double>(d) * static_cast<double>(tasks.size() - d) : 0.0);
    }
  }
  for (auto& th : pool) th.join();
  if (!error.empty()) throw std::runtime_error(error);

  std::vector<regret> rs;
  for (size_t i = 0; i < grid.size(); ++i) {
    std::vector<tuner::sim::result> fixed(runs[i].begin(),
                                          runs[i].begin() + static_cast<std::ptrdiff_t>(fixed_count[i]));
    rs.push_back(judge(grid[i], fixed, runs[i].back()));
  }
  std::string command = "./build/experiments/kairo-lab oracle";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  write_runs(dir + "/runs.csv", grid, runs);
  write_regret_csv(dir + "/regret.csv", rs);
  write_regret_md(dir + "/regret.md", command, rs, grid.front().scenario, tasks.size());
  const auto images = write_plots(dir, rs);
  size_t missed = 0;
  for (auto& g : rs) missed += !(g.met_oracle && g.met_p99 && g.met_profile);
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("oracle: %zu points in %.0f s; auto met every target at %zu, missed one or more at %zu\n", rs.size(), el,
              rs.size() - missed, missed);
  for (auto& g : rs)
    if (!(g.met_oracle && g.met_p99 && g.met_profile))
      std::printf(
          "  miss %-28s oracle %-12s %9.0f msg/s  auto %9.0f (%.3f) p99 ÷ oracle %.2f  ÷ best profile %.3f  [%s]\n",
          point_name(*g.point).c_str(), g.oracle.policy.c_str(), g.oracle.batches_per_s, g.auto_tuned.batches_per_s,
          g.vs_oracle, g.p99_vs_oracle, g.vs_profile, tuner::name(g.auto_tuned.final_rule));
  std::printf(
      "wrote %s/regret.md, regret.csv, runs.csv%s\n", dir.c_str(),
      images.empty() ? " (no plots: gnuplot missing)" : (" and " + std::to_string(images.size()) + " plots").c_str());
  std::error_code ec;
  const fs::path latest = fs::path(dir).parent_path() / "latest";
  fs::remove(latest, ec);
  fs::create_directory_symlink(fs::path(dir).filename(), latest, ec);
  return 0;
}

}  // namespace lab::oracle
