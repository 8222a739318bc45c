#pragma once
// The yardstick of every kairo point (BRIEF.md "Yardsticks"): a closed loop of C senders cannot
// beat C / (R + F), with R the client's own cycle, measured as the p50 of the mock broker's point
// at the same load in the same run, and F one sync of a group on the data directory's disk: the
// overwrite+fdatasync p50 of the disk probes taken at the start and the end of the run, at the
// smallest probed size that holds the point's bytes per group, plus the storage class's
// simulated delay. kairo's durable throughput is read as a fraction of that bound.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "experiments/lab/disk_probe.h"
#include "experiments/lab/experiment_spec.h"

namespace lab::experiment {

struct point_result;

// The probes of one filesystem that points keep their data on.
struct disk_yardstick {
  std::string root;  // "native" (the result folder's disk) or "tmpfs"
  std::string dir;   // where the probe ran
  std::optional<disk_probe_result> start, end;
  std::string error;  // why a probe is missing
};

// The probe the runner takes: append and overwrite at the default sizes, few enough operations
// to cost a few seconds.
disk_probe_config runner_probe_config(const std::string& dir);

// Overwrite+fdatasync p50 at the smallest probed size >= bytes (the largest probed when none
// holds it), the mean of the start and end probes' p50s; NaN when neither has it. *size_used
// gets the size taken.
double probed_sync_us(const disk_yardstick& d, double bytes, size_t* size_used);

struct point_bound {
  double bytes_per_group = NAN;  // what F was looked up for
  double f_probe_us = NAN;       // the probed sync at f_size
  size_t f_size = 0;
  double f_delay_us = NAN;  // the storage class's simulated delay
  double f_us = NAN;        // f_probe_us + f_delay_us
  double r_us = NAN;        // the mock's p50 at the same load
  double bound_msgs_per_sec = NAN;
  double fraction_of_bound = NAN;
  double p50_target_us = NAN;  // concurrency 1: R + F, the p50 a broker that only syncs would show
  std::string note;            // why the bound is empty, or where its parts came from
};

// Fills every row's bound, once all points and the end probe are done.
void fill_bounds(const spec& s, std::vector<point_result>& rows, const std::vector<disk_yardstick>& disks);

}  // namespace lab::experiment
