#pragma once
// Watching one point while its bench runs: a side thread scrapes the server's /metrics every
// interval and applies the phased run's storage-class changes on time; the bench's progress
// callbacks are recorded next to the scrapes. Afterwards the samples are turned into a per-interval
// time series and per-point totals (batches per flush, mean sync time, pending batches).
// Times are seconds on the steady clock since the runner's epoch (see now_s()).
// Thread-safety: on_progress and set_anchor may be called from the bench's threads while the
// side thread runs; the result vectors may be read only after finish().
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "experiments/lab/bench.h"

namespace lab::experiment {

double now_s();  // steady clock, seconds since the runner started

// One /metrics scrape: "name" or "name{labels}" -> value.
struct metrics_sample {
  double t = 0;
  std::map<std::string, double> values;
  double get(const std::string& key) const;      // NaN when absent
  double sum_of(const std::string& name) const;  // the sum over all label sets of a metric; NaN when absent
};
std::map<std::string, double> parse_prometheus_text(const std::string& text);

struct client_sample {
  double t = 0;
  bench_progress p;
};

struct monitor_event {
  double t = 0;
  std::string what;  // e.g. "storage -> hdd"
  bool ok = true;
  std::string detail;  // the server's answer or the error
};

struct storage_change {
  double at_s = 0;  // from the start of the measured window
  std::string value;
};

// One row of timeseries/<point>.csv: the interval ending at t_s (measured from the start of the
// measured window; negative during warm-up).
struct series_row {
  double t_s = 0;
  int phase = -1;
  // client side: the bench's last progress report at or before t_s
  double client_msgs_per_sec = NAN, client_p50_ms = NAN, client_p99_ms = NAN;
  double active_senders = NAN;
  // server side, over the interval since the previous scrape
  double records_per_sec = NAN, batches_per_flush = NAN, mean_sync_ms = NAN, flushes_per_sec = NAN;
  // server gauges at t_s
  double pending_batches = NAN, min_batches = NAN, linger_ms = NAN, buffer_bytes = NAN, sync_delay_ms = NAN,
         rss_bytes = NAN;
};
std::string series_csv_header();
std::string series_csv_row(const series_row& r);

struct server_totals {  // over the measured window (or as much of it as was scraped)
  double batches_per_flush = NAN;
  double mean_sync_ms = NAN;        // real fdatasync only (kairo_wal_sync_duration_seconds)
  double simulated_delay_ms = NAN;  // mean of the configured simulated delay over the scrapes
  double records_per_group = NAN;   // WAL records are batches, each holding one or more messages
  double bytes_per_group = NAN;     // payload bytes per fdatasync (kairo_wal_bytes_total / groups)
  double flushes = NAN, flushes_min_batches = NAN, flushes_linger = NAN, flushes_buffer = NAN;
  double mean_pending_batches = NAN, max_pending_batches = NAN;
  double max_rss_bytes = NAN;
  int scrapes = 0, scrape_errors = 0;
};

class monitor {
 public:
  // admin_port 0: nothing to scrape (the mock broker); only progress is recorded.
  monitor(int admin_port, double interval_s, std::vector<storage_change> changes, std::vector<double> phase_starts);
  ~monitor();
  void start();
  // The start of the measured window; storage changes are timed from it. A provisional anchor
  // (an estimate) is replaced by the first confirmed one; later calls change nothing.
  void set_anchor(double t, bool confirmed);
  void on_progress(const bench_progress& p);
  void finish();  // stops the side thread and takes a final scrape

  double anchor() const;  // NaN until known
  const std::vector<metrics_sample>& samples() const { return samples_; }
  const std::vector<client_sample>& client() const { return client_; }
  const std::vector<monitor_event>& events() const { return events_; }

  std::vector<series_row> series() const;
  server_totals totals() const;

 private:
  void run();
  void scrape_once();

  const int port_;
  const double interval_s_;
  std::vector<storage_change> changes_;  // applied in order by the side thread
  std::vector<double> phase_starts_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                // guarded by mu_
  double anchor_ = NAN;                  // guarded by mu_
  bool anchor_confirmed_ = false;        // guarded by mu_
  bool baseline_wanted_ = false;         // guarded by mu_: scrape now, as the window's baseline
  long baseline_index_ = -1;             // written by the side thread: samples_[i] taken at the anchor
  std::vector<metrics_sample> samples_;  // written by the side thread (then finish())
  std::vector<client_sample> client_;    // guarded by mu_
  std::vector<monitor_event> events_;    // written by the side thread
  int scrape_errors_ = 0;
};

}  // namespace lab::experiment
