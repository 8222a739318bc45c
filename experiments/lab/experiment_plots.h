#pragma once
// Plots of a finished (or interrupted) run, drawn by gnuplot from files in the result folder:
//  sweeps:  plots/throughput-<storage>-<size>B.png  msg/s vs concurrency (log x), a line per target
//           plots/p99-<storage>-<size>B.png         p99 vs concurrency (log x, log y)
//  phased:  plots/timeseries-<point>.png            policy / msg/s / p99 over time, stacked
//           plots/phased-overview-<storage>-<size>B.png  the same three panels, a line per target
// The gnuplot scripts (plots/*.gp) and their data (plots/data/) stay next to the images, so a
// figure can be restyled and redrawn with `gnuplot plots/<name>.gp` from the result folder.
#include <map>
#include <string>
#include <vector>

#include "experiments/lab/experiment_monitor.h"
#include "experiments/lab/experiment_output.h"
#include "experiments/lab/experiment_spec.h"

namespace lab::experiment {

struct plot_report {
  std::vector<std::string> images;    // relative to the result folder
  std::vector<std::string> problems;  // one sentence each (gnuplot missing, a script failed, no data)
};

plot_report write_plots(const std::string& result_dir, const spec& s, const std::vector<point_result>& rows,
                        const std::map<std::string, std::vector<series_row>>& series);

}  // namespace lab::experiment
