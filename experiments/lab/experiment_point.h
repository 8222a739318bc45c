#pragma once
// One point of an experiment, start to finish: a fresh server (own data directory under
// points/<id>/, or under env.tmpfs_dir for storage tmpfs; own loopback ports, log in points/<id>/server.log), wait for
// /readyz, the bench with /metrics scraped alongside and the phases' storage changes applied on time, peak RSS and the
// server's CPU time over the measured window read, the server stopped (SIGTERM; SIGKILL after 10 s, recorded), the time
// series written. Never returns with the server still running, also when *stop is raised (Ctrl-C).
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "experiments/lab/experiment_monitor.h"
#include "experiments/lab/experiment_output.h"
#include "experiments/lab/experiment_spec.h"

namespace lab::experiment {

struct point_env {
  const spec* experiment = nullptr;
  std::string kairo_binary;
  std::string mock_binary;  // used only by mock targets
  std::string result_dir;
  std::string tmpfs_dir;  // storage class tmpfs: the points' data directories go under it
  bool keep_data = false;
  const std::atomic<bool>* stop = nullptr;
  std::function<void(const std::string&)> say;  // one line of progress for the user
};

struct point_outcome {
  point_result result;
  std::vector<series_row> series;
  bool interrupted = false;  // *stop was raised: the result is partial and must not be reported
};

point_outcome run_point(const point_env& env, const point& p);

}  // namespace lab::experiment
