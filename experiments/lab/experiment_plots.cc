#include "experiments/lab/experiment_plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "experiments/lab/experiment_process.h"

namespace lab::experiment {
namespace {

namespace fs = std::filesystem;

std::string safe(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += (std::isalnum(c) || c == '-' || c == '.' || c == '_') ? static_cast<char>(c) : '_';
  return out;
}

std::string quote_sh(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string quote_gp(const std::string& s) {  // a gnuplot double-quoted string
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string storage_title(const std::string& st) {
  if (st == "native") return "storage native (real disk)";
  if (on_tmpfs(st)) return "storage tmpfs (data in RAM, fdatasync free)";
  return "storage " + st + " (simulated sync delay)";
}

struct gnuplot_env {
  bool available = false;
  std::string terminal;
};

gnuplot_env detect_gnuplot() {
  gnuplot_env g;
  if (shell_output("gnuplot --version 2>/dev/null").rfind("gnuplot", 0) != 0) return g;
  g.available = true;
  // pngcairo draws anti-aliased figures; the libgd `png` terminal is the fallback.
  g.terminal = shell_output("gnuplot -e 'set terminal pngcairo' 2>&1").empty() ? "pngcairo size 1000,640 font 'sans,10'"
                                                                               : "png size 1000,640";
  return g;
}

class plotter {
 public:
  plotter(std::string dir, plot_report& rep) : dir_(std::move(dir)), rep_(rep), gp_(detect_gnuplot()) {
    fs::create_directories(dir_ + "/plots/data");
    if (!gp_.available) rep_.problems.push_back("gnuplot was not found: scripts written to plots/, no images drawn");
  }

  // Enhanced text is off: '@', '_' and '^' in labels and titles are plain characters.
  std::string terminal(int height = 640) const {
    std::string t = gp_.terminal + " noenhanced";
    auto p = t.find(",640");
    if (p != std::string::npos) t.replace(p, 4, "," + std::to_string(height));
    return t;
  }

  // Writes plots/<name>.gp and runs it from the result folder.
  void draw(const std::string& name, const std::string& script) {
    const std::string gp = "plots/" + name + ".gp";
    const std::string png = "plots/" + name + ".png";
    std::ofstream(dir_ + "/" + gp) << "# redraw from the result folder: gnuplot " << gp << "\n" << script;
    if (!gp_.available) return;
    std::error_code ec;
    fs::remove(dir_ + "/" + png, ec);
    const std::string cmd =
        "cd " + quote_sh(dir_) + " && gnuplot " + quote_sh(gp) + " > " + quote_sh(gp + ".log") + " 2>&1";
    int rc = std::system(cmd.c_str());
    if (rc == 0 && fs::exists(dir_ + "/" + png) && fs::file_size(dir_ + "/" + png) > 0) {
      rep_.images.push_back(png);
      fs::remove(dir_ + "/" + gp + ".log", ec);
    } else {
      rep_.problems.push_back("gnuplot failed on " + gp + " (see " + gp + ".log)");
    }
  }

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  plot_report& rep_;
  gnuplot_env gp_;
};

// ---- sweeps -------------------------------------------------------------------------------

void sweep_plots(plotter& pl, const spec& s, const std::vector<point_result>& rows, plot_report& rep) {
  const bool open_loop = !s.load.rate.empty();
  const bool many_producers = s.load.producers.size() > 1;
  const std::string xlabel =
      open_loop ? "offered load (msg/s, open loop)" : "concurrency (senders per producer, one message in flight each)";
  for (auto& st : s.storage)
    for (int size : s.load.message_size)
      for (int prod : s.load.producers) {
        std::string group =
            safe(st) + "-" + std::to_string(size) + "B" + (many_producers ? "-p" + std::to_string(prod) : "");
        std::string tp_plot, p99_plot;
        int plotted = 0;
        for (auto& t : s.targets) {
          std::vector<std::pair<double, const point_result*>> pts;
          for (auto& r : rows) {
            if (r.status != "ok" || r.target != t.label || r.pt.message_size != size || r.pt.producers != prod)
              continue;
            if (!(r.mock || r.pt.storage == st)) continue;
            if (r.bench.msgs_per_sec <= 0) continue;
            pts.emplace_back(open_loop ? *r.pt.rate : r.pt.concurrency, &r);
          }
          if (pts.empty()) continue;
          std::sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.first < b.first; });
          const std::string data = "plots/data/" + group + "-" + safe(t.label) + ".dat";
          std::ofstream out(pl.dir() + "/" + data);
          out << "# x msgs_per_sec p99_ms p50_ms\n";
          for (auto& [x, r] : pts)
            out << num(x) << " " << num(r->bench.msgs_per_sec) << " " << num(r->bench.latency.p99 / 1e3) << " "
                << num(r->bench.latency.p50 / 1e3) << "\n";
          const std::string style = t.mock ? " dt 2 lw 2" : " lw 2";
          const std::string title = t.mock ? t.label + " (mock broker, no disk)" : t.label;
          tp_plot += std::string(tp_plot.empty() ? "plot " : ", \\\n     ") + quote_gp(data) +
                     " using 1:2 smooth unique with linespoints" + style + " pt 7 title " + quote_gp(title);
          p99_plot += std::string(p99_plot.empty() ? "plot " : ", \\\n     ") + quote_gp(data) +
                      " using 1:($3 > 0 ? $3 : 1/0) smooth unique with linespoints" + style + " pt 7 title " +
                      quote_gp(title);
          ++plotted;
        }
        if (!plotted) {
          rep.problems.push_back("no finished points for storage " + st + ", size " + std::to_string(size) +
                                 ": no plot drawn for them");
          continue;
        }
        const std::string what = storage_title(st) + ", " + std::to_string(size) + " B messages" +
                                 (many_producers ? ", " + std::to_string(prod) + " producers" : "");
        std::ostringstream common;
        common << "set terminal " << pl.terminal() << "\n"
               << "set grid\nset key outside right top\nset logscale x 2\nset xlabel " << quote_gp(xlabel) << "\n"
               << "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n";
        std::ostringstream tp;
        tp << common.str() << "set output " << quote_gp("plots/throughput-" + group + ".png") << "\n"
           << "set title " << quote_gp(s.name + ": throughput vs load — " + what) << "\n"
           << "set ylabel \"messages/s (acknowledged)\"\nset yrange [0:*]\n"
           << tp_plot << "\n";
        pl.draw("throughput-" + group, tp.str());
        std::ostringstream p99;
        p99 << common.str() << "set output " << quote_gp("plots/p99-" + group + ".png") << "\n"
            << "set title " << quote_gp(s.name + ": p99 latency vs load — " + what) << "\n"
            << "set ylabel \"p99 produce latency (ms, log)\"\nset logscale y 10\n"
            << p99_plot << "\n";
        pl.draw("p99-" + group, p99.str());
      }
}

// ---- phased runs --------------------------------------------------------------------------

bool has(const std::vector<series_row>& rows, double series_row::*field, bool positive = false) {
  return std::any_of(rows.begin(), rows.end(), [&](auto& r) {
    double v = r.*field;
    return !std::isnan(v) && (!positive || v > 0);
  });
}

// A gnuplot `using` expression for a column of a time series CSV; for log axes, non-positive
// values become undefined (skipped) instead of errors.
std::string col(const std::string& name, bool positive) {
  if (!positive) return "'" + name + "'";
  return "(column('" + name + "') > 0 ? column('" + name + "') : 1/0)";
}

std::string empty_panel(const std::string& why) {
  return "set label 99 " + quote_gp(why) +
         " at graph 0.5, graph 0.5 center\nset yrange [0:1]\nplot -1 notitle\n"
         "unset label 99\nset yrange [*:*]\n";
}

// A top for a [0:top] axis holding these rows' fields, with headroom so a constant line at the
// maximum stays visible below the border.
double axis_top(const std::vector<const std::vector<series_row>*>& sets,
                std::initializer_list<double series_row::*> fields) {
  double mx = 0;
  for (auto* rows : sets)
    for (auto& r : *rows)
      for (auto f : fields)
        if (!std::isnan(r.*f)) mx = std::max(mx, r.*f);
  return mx > 0 ? mx * 1.2 : 1;
}

std::string phase_markers(const spec& s, const point_result& r) {
  std::ostringstream g;
  int conc = r.pt.base_concurrency;
  std::string storage = r.pt.storage;
  for (size_t i = 0; i < s.phases.size(); ++i) {
    const auto& ph = s.phases[i];
    std::string label = ph.label;
    if (label.empty()) {
      if (ph.concurrency && *ph.concurrency != conc) label += "c=" + std::to_string(*ph.concurrency);
      if (ph.storage && *ph.storage != storage && !r.mock) label += (label.empty() ? "" : ", ") + *ph.storage;
      if (i == 0) label = "c=" + std::to_string(ph.concurrency.value_or(conc)) + ", " + ph.storage.value_or(storage);
    }
    if (ph.concurrency) conc = *ph.concurrency;
    if (ph.storage) storage = *ph.storage;
    if (i > 0)
      g << "set arrow from " << num(ph.start_s) << ", graph 0 to " << num(ph.start_s)
        << ", graph 1 nohead dt 2 lc rgb 'gray40'\n";
    if (!label.empty())
      g << "set label " << quote_gp(label) << " at " << num(ph.start_s) << ", graph 0.93 left offset 0.5,0 font ',9'\n";
  }
  return g.str();
}

void phased_plots(plotter& pl, const spec& s, const std::vector<point_result>& rows,
                  const std::map<std::string, std::vector<series_row>>& series) {
  double total = 0;
  for (auto& ph : s.phases) total += ph.duration_s;
  const std::string xr = "set xrange [" + num(-s.load.warmup_s) + ":" + num(total) + "]\n";
  std::map<std::string, std::vector<const point_result*>> groups;  // storage-size -> points
  for (auto& r : rows) {
    auto it = series.find(r.pt.id);
    if (it == series.end() || it->second.empty()) continue;
    const auto& rs = it->second;
    groups[safe(r.pt.storage == "none" ? "mock" : r.pt.storage) + "-" + std::to_string(r.pt.message_size) + "B"]
        .push_back(&r);
    const std::string csv = quote_gp("timeseries/" + r.pt.id + ".csv");
    std::ostringstream g;
    g << "set terminal " << pl.terminal(900) << "\nset output " << quote_gp("plots/timeseries-" + r.pt.id + ".png")
      << "\n"
      << "set datafile separator ','\nset grid\nset key outside right top\n"
      << xr << "set multiplot layout 3,1 title "
      << quote_gp(s.name + " — " + r.target + ", " + std::to_string(r.pt.message_size) + " B, " + r.concurrency_phases +
                  " / " + r.storage_phases)
      << "\n"
      << phase_markers(s, r) << "set lmargin 12\nset rmargin 28\n";
    // Panel 1: the policy in force and what it achieved.
    g << "set ylabel 'batches'\nset format x ''\nset yrange [0:"
      << num(axis_top({&rs}, {&series_row::min_batches, &series_row::batches_per_flush})) << "]\n";
    if (has(rs, &series_row::min_batches)) {
      g << "set y2label 'linger (ms)'\nset y2tics\nset ytics nomirror\nset y2range [0:"
        << num(axis_top({&rs}, {&series_row::linger_ms})) << "]\n"
        << "plot " << csv << " using 't_s':'min_batches' with steps lw 2 title 'min batches', \\\n"
        << "     " << csv << " using 't_s':'batches_per_flush' with lines title 'batches per flush', \\\n"
        << "     " << csv << " using 't_s':'linger_ms' axes x1y2 with steps lw 2 title 'linger ms (right)'\n"
        << "unset y2label\nunset y2tics\nset ytics mirror\n";
      g << "set yrange [*:*]\n";
    } else {
      g << empty_panel("no server metrics (mock broker, or no scrape succeeded)");
    }
    // Panel 2: throughput, client-side and server-side.
    g << "set ylabel 'messages/s'\n";
    std::string p2;
    if (has(rs, &series_row::client_msgs_per_sec))
      p2 += csv + " using 't_s':'client_msgs_per_sec' with lines lw 2 title 'acked msg/s (bench)'";
    if (has(rs, &series_row::records_per_sec))
      p2 += std::string(p2.empty() ? "" : ", \\\n     ") + csv +
            " using 't_s':'records_per_sec' with lines dt 2 title 'records/s (server)'";
    g << (p2.empty() ? empty_panel("no throughput samples") : "plot " + p2 + "\n");
    // Panel 3: latency, with the sync time it is made of.
    g << "set ylabel 'ms (log)'\nset xlabel 'time (s) from the start of the measured window'\nset format x '%g'\nset "
         "logscale y 10\n";
    std::string p3;
    if (has(rs, &series_row::client_p99_ms, true))
      p3 += csv + " using 't_s':" + col("client_p99_ms", true) + " with lines lw 2 title 'p99 (bench, per interval)'";
    if (has(rs, &series_row::client_p50_ms, true))
      p3 += std::string(p3.empty() ? "" : ", \\\n     ") + csv + " using 't_s':" + col("client_p50_ms", true) +
            " with lines title 'p50'";
    if (has(rs, &series_row::mean_sync_ms, true))
      p3 += std::string(p3.empty() ? "" : ", \\\n     ") + csv +
            " using 't_s':(column('mean_sync_ms') + (column('sync_delay_ms') > 0 ? column('sync_delay_ms') : 0))"
            " with lines dt 2 title 'sync ms (real + simulated)'";
    g << (p3.empty() ? "unset logscale y\n" + empty_panel("no latency samples") : "plot " + p3 + "\n")
      << "unset multiplot\n";
    pl.draw("timeseries-" + r.pt.id, g.str());
  }
  // Overview: every target of a storage class and size on the same axes.
  for (auto& [group, pts] : groups) {
    if (pts.size() < 2) continue;
    std::ostringstream g;
    g << "set terminal " << pl.terminal(900) << "\nset output " << quote_gp("plots/phased-overview-" + group + ".png")
      << "\n"
      << "set datafile separator ','\nset grid\nset key outside right top\n"
      << xr << "set multiplot layout 3,1 title " << quote_gp(s.name + " — all targets, " + group) << "\n"
      << phase_markers(s, *pts.front()) << "set lmargin 12\nset rmargin 28\nset format x ''\n";
    auto panel = [&](const std::string& column, double series_row::*field, const std::string& ylabel, bool logy) {
      std::string p;
      int colour = 0;
      for (auto* r : pts) {
        ++colour;
        if (!has(series.at(r->pt.id), field, logy)) continue;
        p += std::string(p.empty() ? "plot " : ", \\\n     ") + quote_gp("timeseries/" + r->pt.id + ".csv") +
             " using 't_s':" + col(column, logy) + " with lines lw 2 lc " + std::to_string(colour) + " title " +
             quote_gp(r->target);
      }
      g << "set ylabel " << quote_gp(ylabel) << "\n"
        << (logy ? "set logscale y 10\n" : "unset logscale y\n") << (p.empty() ? empty_panel("no samples") : p + "\n");
    };
    {  // policy: min batches (solid, left) and linger (dashed, right), one colour per target
      std::vector<const std::vector<series_row>*> sets;
      for (auto* r : pts) sets.push_back(&series.at(r->pt.id));
      std::string p;
      int colour = 0;
      for (auto* r : pts) {
        ++colour;
        if (!has(series.at(r->pt.id), &series_row::min_batches)) continue;
        const std::string csv = quote_gp("timeseries/" + r->pt.id + ".csv");
        p += std::string(p.empty() ? "plot " : ", \\\n     ") + csv + " using 't_s':'min_batches' with steps lw 2 lc " +
             std::to_string(colour) + " title " + quote_gp(r->target) + ", \\\n     " + csv +
             " using 't_s':'linger_ms' axes x1y2 with steps dt 2 lc " + std::to_string(colour) + " notitle";
      }
      g << "set ylabel 'min batches (solid)'\nset y2label 'linger ms (dashed)'\nset y2tics\nset ytics nomirror\n"
        << "set yrange [0:" << num(axis_top(sets, {&series_row::min_batches}))
        << "]\nset y2range [0:" << num(axis_top(sets, {&series_row::linger_ms})) << "]\n"
        << (p.empty() ? empty_panel("no server metrics") : p + "\n")
        << "unset y2label\nunset y2tics\nset ytics mirror\nset yrange [*:*]\n";
    }
    panel("client_msgs_per_sec", &series_row::client_msgs_per_sec, "messages/s", false);
    g << "set xlabel 'time (s) from the start of the measured window'\nset format x '%g'\n";
    panel("client_p99_ms", &series_row::client_p99_ms, "p99 ms (log)", true);
    g << "unset multiplot\n";
    pl.draw("phased-overview-" + group, g.str());
  }
}

}  // namespace

plot_report write_plots(const std::string& result_dir, const spec& s, const std::vector<point_result>& rows,
                        const std::map<std::string, std::vector<series_row>>& series) {
  plot_report rep;
  plotter pl(result_dir, rep);
  if (s.phased()) phased_plots(pl, s, rows, series);
  else sweep_plots(pl, s, rows, rep);
  return rep;
}

}  // namespace lab::experiment
