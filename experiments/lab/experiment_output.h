#pragma once
// What a finished point leaves behind: one row in points.csv / points.jsonl (long format: one
// row per point, the settings as columns, so any pivot — e.g. a target's throughput divided by
// the best static profile's at the same load — is a group-by away), and summary.md.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/lab/bench.h"
#include "experiments/lab/experiment_bound.h"
#include "experiments/lab/experiment_monitor.h"
#include "experiments/lab/experiment_spec.h"

namespace lab::experiment {

struct point_result {
  point pt;
  std::string experiment;
  std::string target;
  bool mock = false;
  bool static_policy = false;  // target::is_static()
  std::string profile;
  std::string server_args;  // the target's own `kairo serve` arguments, space-separated
  std::string concurrency_phases, storage_phases;
  std::string status;  // "ok" or "failed"
  std::string error;
  bench_result bench;
  server_totals server;
  int64_t peak_rss_bytes = -1;
  bool server_killed = false;
  std::string server_stop;
  std::string started_at;  // UTC, ISO 8601
  double wall_s = 0;
  // The server's CPU time (utime + stime) over the measured window, and per acknowledged message.
  double cpu_seconds = NAN;
  double cpu_us_per_message = NAN;
  point_bound bound;  // filled by fill_bounds once the whole run is done
};

std::string points_csv_header();
std::string points_csv_row(const point_result& r);
nlohmann::ordered_json point_json(const point_result& r);  // keys in CSV column order

struct run_info {
  std::string command, started_at, finished_at, git_commit, kairo_binary, host, result_dir;
  bool quick = false;
  bool interrupted = false;
  std::string interrupted_point;  // the point that was running when the run was stopped
  int planned_points = 0;
  std::vector<disk_yardstick> disks;  // the data directories' disks, probed at the start and the end
};

// summary.md: the run's provenance, the disk probes, a table of the points with their bound, a
// per-load comparison of the targets, concurrency 1 against its p50 target and, when a target
// runs the `auto` profile, its ratio to the best static profile.
std::string summary_markdown(const spec& s, const run_info& info, const std::vector<point_result>& rows);

std::string utc_timestamp(bool for_file_name);  // "2026-11-26T14:20:36Z" or "20261126-142036"

}  // namespace lab::experiment
