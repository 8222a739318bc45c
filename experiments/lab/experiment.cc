#include "experiments/lab/experiment.h"

#include <signal.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "experiments/lab/disk_probe.h"
#include "experiments/lab/experiment_bound.h"
#include "experiments/lab/experiment_monitor.h"
#include "experiments/lab/experiment_output.h"
#include "experiments/lab/experiment_plots.h"
#include "experiments/lab/experiment_point.h"
#include "experiments/lab/experiment_process.h"
#include "experiments/lab/experiment_spec.h"

namespace lab {
namespace {

namespace ex = experiment;
namespace fs = std::filesystem;
namespace po = boost::program_options;

constexpr int exit_failed_points = 1;
constexpr int exit_usage = 2;
constexpr int exit_interrupted = 130;
constexpr double overhead_guess_s = 1.5;  // server start + stop per point, until measured
constexpr double probe_guess_s = 2;       // one disk probe (runner_probe_config) on this VM's disk
constexpr long tmpfs_magic = 0x01021994;  // statfs f_type of tmpfs

std::atomic<bool> stop_requested{false};
std::atomic<int> signals_seen{0};

// First Ctrl-C: finish cleanly (stop the bench, stop the server, write what finished). Second:
// leave now; the servers die with us (PR_SET_PDEATHSIG).
void on_signal(int) {
  if (signals_seen.fetch_add(1) >= 1) _exit(exit_interrupted);
  stop_requested.store(true);
  const char msg[] = "\nkairo-lab experiment: stopping after cleanup (Ctrl-C again to leave at once)\n";
  [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
}

void say(const std::string& line) {
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

std::string fmt_duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) % 3600 / 60);
  return buf;
}

std::string describe_point(const ex::spec& s, const ex::point& p) {
  const auto& t = s.targets[p.target_index];
  std::string d = t.label + "  storage=" + (p.storage == "none" ? "none (mock)" : p.storage) +
                  "  size=" + std::to_string(p.message_size);
  if (p.producers != 1) d += "  producers=" + std::to_string(p.producers);
  if (s.phased())
    d += "  load=" + ex::describe_concurrency_phases(s, p) + "  storage=" + ex::describe_storage_phases(s, p);
  else if (p.rate) d += "  open-loop rate=" + std::to_string(static_cast<long long>(*p.rate)) + "/s";
  else d += "  concurrency=" + std::to_string(p.concurrency);
  if (s.repeat > 1) d += "  rep=" + std::to_string(p.repetition);
  return d;
}

// This binary's folder (empty when /proc is not there).
fs::path own_dir() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : p.parent_path();
}

bool executable(const fs::path& p) { return !p.empty() && ::access(p.c_str(), X_OK) == 0; }

// The broker to serve with when --kairo is not given, and where it was looked for: the build
// tree's server/kairo (this binary is build/experiments/kairo-lab), a kairo beside this binary
// (both installed in one bin/), then `kairo` on PATH.
std::string find_kairo(std::string& looked_in) {
  if (const fs::path here = own_dir(); !here.empty()) {
    for (const fs::path& c : {here.parent_path() / "server" / "kairo", here / "kairo"}) {
      if (executable(c)) return c.string();
      looked_in += c.string() + ", ";
    }
  }
  const std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
  for (size_t start = 0; start < dirs.size();) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    if (const fs::path c = fs::path(dirs.substr(start, end - start)) / "kairo"; end > start && executable(c))
      return fs::absolute(c).string();
    start = end + 1;
  }
  looked_in += "PATH";
  return {};
}

std::string git_commit(const std::string& near) {
  const std::string dir = fs::absolute(fs::path(near)).parent_path().string();
  std::string q = "'" + dir + "'";
  std::string c = ex::shell_output("git -C " + q + " rev-parse --short HEAD 2>/dev/null");
  if (c.empty()) return c;
  if (!ex::shell_output("git -C " + q + " status --porcelain --untracked-files=no 2>/dev/null").empty()) c += "+dirty";
  return c;
}

std::string host_description() {
  utsname u{};
  ::uname(&u);
  return std::string(u.nodename) + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores, " + u.sysname +
         " " + u.release;
}

// A directory on tmpfs for the points of storage class tmpfs, removed with the run.
class tmpfs_dir {
 public:
  tmpfs_dir() = default;
  tmpfs_dir(const tmpfs_dir&) = delete;
  tmpfs_dir& operator=(const tmpfs_dir&) = delete;
  ~tmpfs_dir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  // Empty string on success, else what is wrong.
  std::string make() {
    struct statfs st {};
    if (::statfs(ex::tmpfs_root, &st) != 0 || static_cast<long>(st.f_type) != tmpfs_magic)
      return std::string(ex::tmpfs_root) + " is not a tmpfs on this machine; storage class tmpfs needs one";
    std::string tmpl = std::string(ex::tmpfs_root) + "/kairo-experiment-XXXXXX";
    if (!::mkdtemp(tmpl.data())) return "cannot create a directory in " + std::string(ex::tmpfs_root);
    path_ = tmpl;
    return {};
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One disk probe of a data directory's filesystem, its progress and outcome said as lines.
std::optional<disk_probe_result> probe_disk(ex::disk_yardstick& d, const std::string& when) {
  const std::string who = "disk probe (" + d.root + ", " + when + ")";
  try {
    auto r = run_disk_probe(
        ex::runner_probe_config(d.dir),
        [&](const disk_probe_progress& p) {
          if (p.batches_done % (p.batches_total / p.rounds) == 0)
            say("        " + who + ": round " + std::to_string(p.round) + "/" + std::to_string(p.rounds) + " done");
        },
        &stop_requested);
    char took[32];
    std::snprintf(took, sizeof took, "%.1f", r.seconds);
    std::string line = who + " in " + r.dir + " (" + r.filesystem + ") took " + took + " s; p50 µs:";
    for (auto m : {disk_mode::append, disk_mode::overwrite}) {
      line += "  ";
      line += to_string(m);
      for (auto& c : r.cells) {
        if (c.mode != m) continue;
        char cell[48];
        std::snprintf(cell, sizeof cell, " %zuK %.0f", c.size / 1024, c.p50_us);
        line += cell;
      }
    }
    say(line);
    return r;
  } catch (const std::exception& e) {
    d.error += (d.error.empty() ? "" : "; ") + when + ": " + e.what();
    say("note: " + who + " failed: " + e.what());
    return std::nullopt;
  }
}

// The binaries are copied aside for the run: a rebuild during a long sweep must neither break
// the next point's exec nor mix two builds in one result.
class binary_snapshot {
 public:
  binary_snapshot() {
    char tmpl[] = "/tmp/kairo-experiment-XXXXXX";
    if (::mkdtemp(tmpl)) dir_ = tmpl;
  }
  ~binary_snapshot() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  // The copy's path, or the original when copying fails.
  std::string take(const std::string& path, const std::string& name) {
    if (dir_.empty()) return path;
    std::error_code ec;
    const std::string copy = dir_ + "/" + name;
    fs::copy_file(path, copy, fs::copy_options::overwrite_existing, ec);
    return ec ? path : copy;
  }

 private:
  std::string dir_;
};

nlohmann::json disks_json(const std::vector<ex::disk_yardstick>& disks) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& d : disks)
    out.push_back({{"root", d.root},
                   {"dir", d.dir},
                   {"start", d.start ? nlohmann::json(disk_probe_json(*d.start)) : nlohmann::json(nullptr)},
                   {"end", d.end ? nlohmann::json(disk_probe_json(*d.end)) : nlohmann::json(nullptr)},
                   {"error", d.error}});
  return out;
}

void usage(std::ostream& out, const po::options_description& opts) {
  out << "usage: kairo-lab experiment run experiments/<name>.json [options]\n\n"
         "Runs a declared experiment: every point (server setting x storage class x load) against a fresh\n"
         "`kairo serve` with its own data directory and loopback ports; writes points.csv, points.jsonl,\n"
         "timeseries/, plots/ and summary.md to experiments/results/<name>/<timestamp>/ (or --out).\n"
         "The disks the points keep their data on are probed (kairo-lab disk) at the start and the end of the run,\n"
         "and every kairo point gets its bound C / (R + F) and the fraction of it reached (columns bound_*).\n"
         "The file format is described in experiments/README.md. Ctrl-C stops cleanly and keeps what finished.\n\n"
      << opts << "\n";
}

}  // namespace

int experiment_main(int argc, const char* const* argv) {
  po::options_description opts("kairo-lab experiment run options");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help and exit")
    ("quick", "run the file's \"quick\" variant (its overrides merged over the rest)")
    ("out", po::value<std::string>(), "result folder (default: results/<name>/<UTC timestamp> next to the file, i.e. experiments/results/...)")
    ("kairo", po::value<std::string>(), "the kairo binary to serve with (default: ../server/kairo from this binary, "
                                        "i.e. build/server/kairo; else a kairo beside it; else kairo on PATH)")
    ("mock-broker", po::value<std::string>(), "kairo_mock_broker for targets with \"mock\": true "
                                              "(default: the one beside this binary, build/experiments/kairo_mock_broker)")
    ("keep", "keep each point's data directory (points/<id>/data)")
    ("dry-run", "list the points and the estimated time, run nothing");
  // clang-format on
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())("file", po::value<std::string>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("command", 1).add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
  if (vm.count("help")) {
    usage(std::cout, opts);
    return 0;
  }
  if (!vm.count("command") || vm["command"].as<std::string>() != "run" || !vm.count("file")) {
    std::cerr << "kairo-lab experiment: expected `kairo-lab experiment run <file.json>`\n\n";
    usage(std::cerr, opts);
    return exit_usage;
  }
  const std::string file = vm["file"].as<std::string>();
  const bool quick = vm.count("quick") > 0;
  ex::spec s;
  try {
    s = ex::load_spec_file(file, quick);
  } catch (const std::invalid_argument& e) {
    std::cerr << "kairo-lab experiment: " << e.what() << "\n";
    return exit_usage;
  }
  const auto points = ex::expand_points(s);

  ex::point_env env;
  env.experiment = &s;
  if (vm.count("kairo")) {
    env.kairo_binary = fs::absolute(vm["kairo"].as<std::string>()).string();
    if (!executable(env.kairo_binary)) {
      std::cerr << "kairo-lab experiment: --kairo " << env.kairo_binary
                << " is not an executable file; build it first\n";
      return exit_usage;
    }
  } else {
    std::string looked_in;
    env.kairo_binary = find_kairo(looked_in);
    if (env.kairo_binary.empty()) {
      std::cerr << "kairo-lab experiment: found no kairo binary to serve with (looked in " << looked_in
                << "); build it (cmake --build build --target kairo) or pass --kairo PATH\n";
      return exit_usage;
    }
  }
  env.mock_binary = vm.count("mock-broker") ? fs::absolute(vm["mock-broker"].as<std::string>()).string()
                                            : (own_dir() / "kairo_mock_broker").string();
  env.keep_data = vm.count("keep") > 0;
  env.stop = &stop_requested;
  env.say = say;
  for (auto& t : s.targets) {
    std::string bin = t.binary.empty() ? env.mock_binary : t.binary;
    if (t.mock && ::access(bin.c_str(), X_OK) != 0) {
      std::cerr << "kairo-lab experiment: target '" << t.label << "' needs the mock broker, but " << bin
                << " is not an executable file; build it (make kairo_mock_broker) or pass --mock-broker PATH\n";
      return exit_usage;
    }
  }

  // The disks the points keep their data on, each probed at the start and the end of the run.
  bool on_disk = false, on_shm = false;
  for (auto& p : points) {
    if (s.targets[p.target_index].mock) continue;
    (ex::on_tmpfs(p.storage) ? on_shm : on_disk) = true;
  }
  double planned_s = 2 * probe_guess_s * (on_disk + on_shm);
  for (auto& p : points) planned_s += p.duration_s + p.warmup_s + overhead_guess_s;
  if (vm.count("dry-run")) {
    say(s.name + (quick ? " (quick)" : "") + ": " + std::to_string(points.size()) + " points, about " +
        fmt_duration(planned_s));
    for (auto& p : points) say("  " + p.id + "  " + describe_point(s, p));
    return 0;
  }

  binary_snapshot snapshot;
  const std::string kairo_original = env.kairo_binary;
  env.kairo_binary = snapshot.take(env.kairo_binary, "kairo");
  if (std::any_of(s.targets.begin(), s.targets.end(), [](auto& t) { return t.mock && t.binary.empty(); }))
    env.mock_binary = snapshot.take(env.mock_binary, "kairo_mock_broker");

  // The result folder.
  std::string dir;
  if (vm.count("out")) {
    dir = fs::absolute(vm["out"].as<std::string>()).string();
  } else {
    // Next to the experiment file (experiments/results/...), whatever the working directory.
    const fs::path base = fs::absolute(fs::path(file)).parent_path() / "results" / s.name;
    std::string stamp = ex::utc_timestamp(true) + (quick ? "-quick" : "");
    dir = fs::absolute(base / stamp).string();
    for (int i = 2; fs::exists(dir); ++i) dir = fs::absolute(base / (stamp + "-" + std::to_string(i))).string();
  }
  try {
    fs::create_directories(dir + "/timeseries");
    fs::create_directories(dir + "/points");
  } catch (const fs::filesystem_error& e) {
    std::cerr << "kairo-lab experiment: cannot create the result folder " << dir << ": " << e.what() << "\n";
    return exit_usage;
  }
  env.result_dir = dir;
  tmpfs_dir shm;
  if (on_shm) {
    if (auto problem = shm.make(); !problem.empty()) {
      std::cerr << "kairo-lab experiment: " << problem << "\n";
      return exit_usage;
    }
    env.tmpfs_dir = shm.path();
  }
  if (!vm.count("out")) {  // experiments/results/<name>/latest -> this run
    std::error_code ec;
    const fs::path latest = fs::path(dir).parent_path() / "latest";
    fs::remove(latest, ec);
    fs::create_directory_symlink(fs::path(dir).filename(), latest, ec);
  }

  ex::run_info info;
  info.command = "kairo-lab";
  for (int i = 0; i < argc; ++i) info.command += std::string(" ") + argv[i];
  info.started_at = ex::utc_timestamp(false);
  info.git_commit = git_commit(file);
  info.kairo_binary = kairo_original;
  info.host = host_description();
  info.result_dir = dir;
  info.quick = quick;
  info.planned_points = static_cast<int>(points.size());

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;  // the stop flag is polled; nothing needs an EINTR
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::ofstream csv(dir + "/points.csv");
  std::ofstream jsonl(dir + "/points.jsonl");
  csv << ex::points_csv_header() << "\n" << std::flush;

  say("kairo-lab experiment " + s.name + (quick ? " (quick)" : "") + ": " + std::to_string(points.size()) +
      " points, about " + fmt_duration(planned_s) + "; results in " + dir);
  if (on_disk) info.disks.push_back({"native", dir + "/points", std::nullopt, std::nullopt, {}});
  if (on_shm) info.disks.push_back({ex::tmpfs_storage, shm.path(), std::nullopt, std::nullopt, {}});
  for (auto& d : info.disks) d.start = probe_disk(d, "start");

  std::vector<ex::point_result> rows;
  std::map<std::string, std::vector<ex::series_row>> series;
  double overhead_sum = 0;
  int overhead_n = 0;
  const size_t total = points.size();
  for (size_t i = 0; i < total && !stop_requested.load(); ++i) {
    const auto& p = points[i];
    double overhead = overhead_n ? overhead_sum / overhead_n : overhead_guess_s;
    double eta = 0;
    for (size_t j = i; j < total; ++j) eta += points[j].duration_s + points[j].warmup_s + overhead;
    char head[32];
    std::snprintf(head, sizeof head, "[%*zu/%zu]", static_cast<int>(std::to_string(total).size()), i + 1, total);
    say(std::string(head) + " start  " + describe_point(s, p) + "  (ETA " + fmt_duration(eta) + ")");
    ex::point_outcome out;
    try {
      out = ex::run_point(env, p);
    } catch (const std::exception& e) {  // e.g. the result folder became unwritable
      out.result.pt = p;
      out.result.experiment = s.name;
      out.result.target = s.targets[p.target_index].label;
      out.result.status = "failed";
      out.result.error = std::string("the runner failed on this point: ") + e.what();
    }
    if (out.interrupted) {
      info.interrupted = true;
      info.interrupted_point = p.id;
      say(std::string(head) + " interrupted; the server was stopped (" +
          (out.result.server_stop.empty() ? "not started" : out.result.server_stop) + ")");
      break;
    }
    auto& r = out.result;
    overhead_sum += std::max(0.0, r.wall_s - p.duration_s - p.warmup_s);
    ++overhead_n;
    char line[256];
    if (r.status == "ok")
      std::snprintf(line, sizeof line, " done in %.1f s: %.0f msg/s, %.2f MB/s, p50 %.2f ms, p99 %.2f ms", r.wall_s,
                    r.bench.msgs_per_sec, r.bench.mb_per_sec, r.bench.latency.p50 / 1e3, r.bench.latency.p99 / 1e3);
    else std::snprintf(line, sizeof line, " FAILED after %.1f s: ", r.wall_s);
    std::string server_side;
    if (r.status == "ok" && !std::isnan(r.server.batches_per_flush)) {
      char buf[128];
      std::snprintf(buf, sizeof buf, ", %.3g batches/flush, fdatasync %.3g ms", r.server.batches_per_flush,
                    r.server.mean_sync_ms);
      server_side = buf;
    }
    if (r.status == "ok" && !std::isnan(r.cpu_us_per_message)) {
      char buf[64];
      std::snprintf(buf, sizeof buf, ", CPU %.3g µs/msg", r.cpu_us_per_message);
      server_side += buf;
    }
    say(std::string(head) + line + server_side + (r.status == "ok" ? "" : r.error) +
        (r.server_killed ? "  [server needed SIGKILL]" : ""));
    csv << ex::points_csv_row(r) << "\n" << std::flush;
    jsonl << ex::point_json(r).dump() << "\n" << std::flush;
    series[p.id] = std::move(out.series);
    rows.push_back(std::move(r));
  }
  if (stop_requested.load() && !info.interrupted) {
    info.interrupted = true;
    info.interrupted_point = rows.size() < total ? points[rows.size()].id : "";
  }

  for (auto& d : info.disks) {
    if (stop_requested.load())
      d.error += (d.error.empty() ? "" : "; ") + std::string("end: skipped, the run was stopped");
    else d.end = probe_disk(d, "end");
  }
  // The bounds need every point and both probes: the rows are written again with them.
  ex::fill_bounds(s, rows, info.disks);
  csv.close();
  jsonl.close();
  csv.open(dir + "/points.csv", std::ios::trunc);
  jsonl.open(dir + "/points.jsonl", std::ios::trunc);
  csv << ex::points_csv_header() << "\n";
  for (auto& r : rows) {
    csv << ex::points_csv_row(r) << "\n";
    jsonl << ex::point_json(r).dump() << "\n";
    if (r.mock || r.status != "ok") continue;
    char line[200];
    if (std::isnan(r.bound.bound_msgs_per_sec))
      std::snprintf(line, sizeof line, "  %s: no bound (%s)", r.pt.id.c_str(), r.bound.note.c_str());
    else
      std::snprintf(line, sizeof line, "  %s: %.0f msg/s = %.2f of the bound %.0f (R %.0f µs + F %.0f µs)",
                    r.pt.id.c_str(), r.bench.msgs_per_sec, r.bound.fraction_of_bound, r.bound.bound_msgs_per_sec,
                    r.bound.r_us, r.bound.f_us);
    say(line);
  }
  csv.flush();
  jsonl.flush();

  // What finished is written also after Ctrl-C.
  info.finished_at = ex::utc_timestamp(false);
  auto plots = ex::write_plots(dir, s, rows, series);
  for (auto& problem : plots.problems) say("note: " + problem);
  std::ofstream(dir + "/summary.md") << ex::summary_markdown(s, info, rows);
  nlohmann::json run = {{"experiment", s.resolved},
                        {"file", file},
                        {"quick", quick},
                        {"command", info.command},
                        {"started_at", info.started_at},
                        {"finished_at", info.finished_at},
                        {"git_commit", info.git_commit},
                        {"kairo", info.kairo_binary},
                        {"host", info.host},
                        {"planned_points", info.planned_points},
                        {"finished_points", rows.size()},
                        {"interrupted", info.interrupted},
                        {"disks", disks_json(info.disks)},
                        {"plots", plots.images},
                        {"plot_problems", plots.problems}};
  std::ofstream(dir + "/run.json") << run.dump(2) << "\n";

  int failed = 0;
  for (auto& r : rows) failed += r.status != "ok";
  say("kairo-lab experiment " + s.name + ": " + std::to_string(rows.size()) + "/" + std::to_string(total) +
      " points, " + std::to_string(failed) + " failed, " + std::to_string(plots.images.size()) + " plots; " + dir +
      "/summary.md");
  if (info.interrupted) return exit_interrupted;
  return failed ? exit_failed_points : 0;
}

}  // namespace lab
