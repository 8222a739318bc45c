#include "experiments/lab/experiment_point.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "experiments/lab/bench.h"
#include "experiments/lab/experiment_http.h"
#include "experiments/lab/experiment_process.h"

namespace lab::experiment {
namespace {

namespace fs = std::filesystem;

constexpr double ready_timeout_s = 30;
constexpr double stop_grace_s = 10;  // SIGTERM, then SIGKILL (recorded in the row)
constexpr double progress_print_s = 5;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::string fmt(const char* f, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a);
  return buf;
}

std::string log_tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  std::string l;
  while (std::getline(in, l)) all.push_back(l);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += all[i] + " / ";
  return out;
}

// "bootstrap=127.0.0.1:NNNN[,...]" in the mock broker's log: where it listens (empty until printed).
std::string bootstrap_in_log(const std::string& path) {
  std::ifstream in(path);
  std::string l;
  while (std::getline(in, l)) {
    auto p = l.find("bootstrap=");
    if (p == std::string::npos) continue;
    std::string v = l.substr(p + 10);
    auto end = v.find_first_of(" \t\r");
    return end == std::string::npos ? v : v.substr(0, end);
  }
  return {};
}

// The server's CPU time over the measured window: read when the window opens and, on a timer of
// its own, when it closes (the bench returns only after draining and closing its clients, which
// is not part of the window). Thread-safety: open() and finish() from the bench's thread.
class cpu_window {
 public:
  explicit cpu_window(pid_t pid) : pid_(pid) {}
  cpu_window(const cpu_window&) = delete;
  cpu_window& operator=(const cpu_window&) = delete;
  ~cpu_window() { finish(); }

  // At the window's opening; later calls change nothing.
  void open(double duration_s) {
    if (timer_.joinable()) return;
    start_ = process_cpu_seconds(pid_);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(duration_s);
    timer_ = std::thread([this, until] {
      std::unique_lock lk(mu_);
      cv_.wait_until(lk, until, [this] { return woken_; });
      end_ = process_cpu_seconds(pid_);
    });
  }
  // The window's CPU seconds (NaN when it never opened); a window cut short ends now.
  double finish() {
    if (timer_.joinable()) {
      {
        std::lock_guard lk(mu_);
        woken_ = true;
      }
      cv_.notify_all();
      timer_.join();
    }
    return end_ - start_;
  }

 private:
  const pid_t pid_;
  std::thread timer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // guarded by mu_
  double start_ = NAN;
  double end_ = NAN;  // written by the timer thread, read after join
};

struct started_server {
  child_process proc;
  int kafka_port = 0;
  int admin_port = 0;     // 0: no admin API (mock broker)
  std::string bootstrap;  // mock broker: as it printed it (it may not honour --listen-port)
  std::string command;
};

enum class start_result { ready, failed, interrupted };

start_result wait_ready(const point_env& env, started_server& srv, bool mock, const std::string& log,
                        std::string& error) {
  const double deadline = now_s() + ready_timeout_s;
  while (now_s() < deadline) {
    if (env.stop->load()) return start_result::interrupted;
    if (!srv.proc.running()) {
      error = "the server " + srv.proc.exit_description() + " before it was ready; log: " + log_tail(log, 5);
      return start_result::failed;
    }
    if (mock) {
      if (auto b = bootstrap_in_log(log); !b.empty()) {
        srv.bootstrap = b;
        const std::string first = b.substr(0, b.find(','));
        srv.kafka_port = std::atoi(first.c_str() + first.rfind(':') + 1);
      }
      if (srv.kafka_port > 0 && tcp_port_open(srv.kafka_port)) return start_result::ready;
    } else if (http_request(srv.admin_port, "GET", "/readyz", {}, 1.0).status == 200) {
      return start_result::ready;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error = "the server was not ready within " + fmt("%.0f", ready_timeout_s) + " s; log: " + log_tail(log, 5);
  return start_result::failed;
}

void start_mock(const point_env& env, started_server& srv, const std::string& log, const std::string& binary) {
  // Either form of the wrapper: one that takes --listen-port, or one that picks a port and prints
  // "bootstrap=127.0.0.1:NNNN" first. The first is tried; if it exits at once, the second.
  // The topic is created up front: the mock cluster has no controller to take CreateTopics.
  const auto& load = env.experiment->load;
  srv.kafka_port = free_loopback_ports(1)[0];
  std::vector<std::string> argv{binary,     "--listen-port", std::to_string(srv.kafka_port), "--topic",
                                load.topic, "--partitions",  std::to_string(load.partitions)};
  srv.proc.start(argv, log);
  for (int i = 0; i < 10 && srv.proc.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!srv.proc.running()) {
    std::ofstream(log, std::ios::app) << "kairo-lab experiment: `--listen-port` refused; starting without arguments\n";
    srv.kafka_port = 0;
    argv = {binary};
    srv.proc.start(argv, log);
  }
  srv.command = join(argv);
}

}  // namespace

point_outcome run_point(const point_env& env, const point& p) {
  const spec& s = *env.experiment;
  const target& t = s.targets.at(p.target_index);
  point_outcome out;
  auto& r = out.result;
  r.pt = p;
  r.experiment = s.name;
  r.target = t.label;
  r.mock = t.mock;
  r.static_policy = t.is_static();
  r.profile = t.mock ? "" : (t.profile.empty() ? "default" : t.profile);
  r.server_args = join(t.server_args());
  r.concurrency_phases = describe_concurrency_phases(s, p);
  r.storage_phases = describe_storage_phases(s, p);
  r.started_at = utc_timestamp(false);
  r.status = "failed";
  const double t_start = now_s();

  const std::string pdir = env.result_dir + "/points/" + p.id;
  const bool tmpfs = on_tmpfs(p.storage) && !t.mock;
  if (tmpfs && env.tmpfs_dir.empty()) throw std::runtime_error("storage tmpfs, but no directory on tmpfs was made");
  const std::string data_dir = tmpfs ? env.tmpfs_dir + "/" + p.id + "/data" : pdir + "/data";
  const std::string log = pdir + "/server.log";
  fs::create_directories(pdir);
  fs::create_directories(data_dir);

  // Storage: phase 0 may set the starting class; later phases change it through the admin API.
  std::string initial_storage = p.storage;
  std::vector<storage_change> changes;
  std::vector<double> phase_starts;
  std::vector<bench_config::load_step> schedule;
  {
    std::string cur = p.storage;
    int conc = p.base_concurrency;
    for (size_t i = 0; i < s.phases.size(); ++i) {
      const auto& ph = s.phases[i];
      phase_starts.push_back(ph.start_s);
      if (ph.storage && !t.mock) {
        if (i == 0) initial_storage = *ph.storage;
        else if (*ph.storage != cur) changes.push_back({ph.start_s, *ph.storage});
        cur = *ph.storage;
      }
      if (ph.concurrency) conc = *ph.concurrency;
      schedule.push_back({ph.start_s, conc});
    }
  }

  // A port picked free can be taken by someone else before the server binds it: one retry
  // with fresh ports when the log says so.
  started_server srv;
  std::string error;
  for (int attempt = 1;; ++attempt) {
    error.clear();
    try {
      if (t.mock) {
        std::string bin = t.binary.empty() ? env.mock_binary : t.binary;
        start_mock(env, srv, log, bin);
      } else {
        auto ports = free_loopback_ports(2);
        srv.kafka_port = ports[0];
        srv.admin_port = ports[1];
        const std::string listen = "127.0.0.1:" + std::to_string(srv.kafka_port);
        std::vector<std::string> argv{env.kairo_binary,
                                      "serve",
                                      "--listen",
                                      listen,
                                      "--advertised-listener",
                                      listen,
                                      "--admin-listen",
                                      "127.0.0.1:" + std::to_string(srv.admin_port),
                                      "--data-dir",
                                      data_dir,
                                      "--simulated-sync-delay",
                                      sync_delay_arg(initial_storage)};
        for (auto& a : t.server_args()) argv.push_back(a);
        srv.command = join(argv);
        std::ofstream(log, std::ios::app) << "kairo-lab experiment: " << srv.command << "\n";
        // KAIRO_* settings of the caller's shell must not leak into the server under test.
        srv.proc.start(argv, log, t.env, "KAIRO_");
      }
    } catch (const std::exception& e) {
      r.error = std::string("could not start the server: ") + e.what();
      return out;
    }
    auto started = wait_ready(env, srv, t.mock, log, error);
    if (started == start_result::ready) break;
    auto st = srv.proc.stop(stop_grace_s);
    if (started == start_result::failed && attempt == 1 && !t.mock &&
        error.find("Address already in use") != std::string::npos) {
      std::ofstream(log, std::ios::app) << "kairo-lab experiment: port taken; retrying with other ports\n";
      continue;
    }
    r.server_stop = st.describe();
    r.server_killed = st.killed;
    r.error = error;
    out.interrupted = started == start_result::interrupted;
    r.wall_s = now_s() - t_start;
    return out;
  }

  bench_config cfg;
  cfg.bootstrap = srv.bootstrap.empty() ? "127.0.0.1:" + std::to_string(srv.kafka_port) : srv.bootstrap;
  cfg.topic = s.load.topic;
  cfg.mode = bench_mode::produce;
  // Phased: the bench sizes its sender pool from the schedule; warm-up runs the first phase's load.
  cfg.concurrency = schedule.empty() ? p.concurrency : schedule.front().concurrency;
  cfg.producers = p.producers;
  cfg.duration_s = p.duration_s;
  cfg.warmup_s = p.warmup_s;
  cfg.message_size = static_cast<size_t>(p.message_size);
  cfg.acks = s.load.acks;
  cfg.compression = s.load.compression;
  cfg.partitions = s.load.partitions;
  cfg.rate = p.rate;
  cfg.progress_interval_s = std::min(1.0, s.scrape_interval_s);
  cfg.schedule = schedule;
  cfg.client_properties = s.targets[p.target_index].client;

  monitor mon(srv.admin_port, s.scrape_interval_s, changes, phase_starts);
  mon.start();
  cpu_window cpu(srv.proc.pid());
  // Without warm-up the window opens as the bench starts: no report marks it.
  if (p.warmup_s <= 0) cpu.open(p.duration_s);
  double last_print = now_s();
  const double bench_start = now_s();
  // Until the bench's first report pins the measured window, it is assumed to open after warm-up.
  mon.set_anchor(bench_start + p.warmup_s, false);
  auto on_progress = [&](const bench_progress& bp) {
    mon.on_progress(bp);
    // The bench forces a report where warm-up ends (its last warm-up interval) and counts the
    // measured window's elapsed time from there; either pins the window's start.
    if (!bp.warming_up) {
      mon.set_anchor(now_s() - bp.elapsed_s, true);
      cpu.open(p.duration_s - bp.elapsed_s);
    } else if (bp.elapsed_s >= p.warmup_s - 1e-3) {
      mon.set_anchor(now_s() - (bp.elapsed_s - p.warmup_s), true);
      cpu.open(p.duration_s);
    }
    if (now_s() - last_print >= progress_print_s - 0.05) {
      last_print = now_s();
      env.say(fmt("        %6.1f s", bp.elapsed_s) + (bp.warming_up ? " (warm-up)" : "") +
              fmt("  %8.0f msg/s", bp.msgs_per_sec) + fmt("  p99 %.2f ms", bp.interval_p99_us / 1e3) +
              fmt("  %.0f acked", static_cast<double>(bp.messages)) +
              (bp.failed ? fmt("  %.0f failed", static_cast<double>(bp.failed)) : std::string()) +
              (s.phased() ? fmt("  senders %.0f", bp.active_senders) : std::string()));
    }
  };
  r.bench = run_bench(cfg, on_progress, env.stop);
  r.bench.config = cfg;  // what was asked, also when the bench returned early
  r.cpu_seconds = cpu.finish();
  if (r.bench.messages > 0) r.cpu_us_per_message = r.cpu_seconds * 1e6 / static_cast<double>(r.bench.messages);
  mon.finish();
  r.server = mon.totals();
  out.series = mon.series();
  for (auto& ev : mon.events())
    if (!ev.ok) error += (error.empty() ? "" : "; ") + ev.what + " failed: " + ev.detail;

  if (srv.proc.running()) {
    r.peak_rss_bytes = peak_rss_bytes(srv.proc.pid());
  } else {
    error += (error.empty() ? "" : "; ") + std::string("the server ") + srv.proc.exit_description() +
             " during the run; log: " + log_tail(log, 5);
  }
  auto st = srv.proc.stop(stop_grace_s);
  if (st.was_running) r.server_stop = st.describe();
  r.server_killed = st.killed;

  // The time series is kept also for an interrupted point: it shows what happened.
  fs::create_directories(env.result_dir + "/timeseries");
  {
    std::ofstream ts(env.result_dir + "/timeseries/" + p.id + ".csv");
    ts << series_csv_header() << "\n";
    for (auto& row : out.series) ts << series_csv_row(row) << "\n";
  }
  std::error_code ec;
  if (tmpfs && env.keep_data) fs::copy(data_dir, pdir + "/data", fs::copy_options::recursive, ec);
  if (!env.keep_data || tmpfs) fs::remove_all(tmpfs ? fs::path(data_dir).parent_path() : fs::path(data_dir), ec);
  r.wall_s = now_s() - t_start;
  out.interrupted = env.stop->load();
  if (!r.bench.error.empty()) error = r.bench.error + (error.empty() ? "" : "; " + error);
  if (error.empty() && r.bench.messages == 0 && !out.interrupted) error = "the bench measured no acknowledged message";
  r.error = error;
  r.status = error.empty() ? "ok" : "failed";
  return out;
}

}  // namespace lab::experiment
