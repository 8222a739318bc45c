#include "experiments/lab/experiment_monitor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "experiments/lab/experiment_http.h"

namespace lab::experiment {
namespace {

const auto epoch = std::chrono::steady_clock::now();

std::string num(double v, const char* fmt = "%.6g") {
  if (std::isnan(v)) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

double delta(const metrics_sample& a, const metrics_sample& b, const std::string& key, bool sum = false) {
  double x = sum ? a.sum_of(key) : a.get(key);
  double y = sum ? b.sum_of(key) : b.get(key);
  return y - x;  // NaN propagates
}

double ratio(double num_, double den) { return (std::isnan(num_) || std::isnan(den) || den <= 0) ? NAN : num_ / den; }

}  // namespace

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch).count(); }

double metrics_sample::get(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() ? NAN : it->second;
}

double metrics_sample::sum_of(const std::string& name) const {
  double total = 0;
  bool any = false;
  for (auto it = values.lower_bound(name); it != values.end() && it->first.compare(0, name.size(), name) == 0; ++it) {
    const std::string& k = it->first;
    if (k.size() == name.size() || k[name.size()] == '{') {
      total += it->second;
      any = true;
    }
  }
  return any ? total : NAN;
}

std::map<std::string, double> parse_prometheus_text(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    // name{labels} value [timestamp]; label values may contain spaces, so split after '}'.
    size_t key_end = line.find('}');
    key_end = key_end == std::string::npos ? line.find(' ') : key_end + 1;
    if (key_end == std::string::npos || key_end >= line.size()) continue;
    const char* p = line.c_str() + key_end;
    char* end = nullptr;
    double v = std::strtod(p, &end);
    if (end == p) continue;
    out[line.substr(0, key_end)] = v;
  }
  return out;
}

std::string series_csv_header() {
  return "t_s,phase,client_msgs_per_sec,client_p50_ms,client_p99_ms,active_senders,records_per_sec,"
         "batches_per_flush,mean_sync_ms,flushes_per_sec,pending_batches,min_batches,linger_ms,buffer_bytes,"
         "sync_delay_ms,rss_bytes";
}

std::string series_csv_row(const series_row& r) {
  std::string s = num(r.t_s, "%.3f") + "," + std::to_string(r.phase);
  for (double v : {r.client_msgs_per_sec, r.client_p50_ms, r.client_p99_ms, r.active_senders, r.records_per_sec,
                   r.batches_per_flush, r.mean_sync_ms, r.flushes_per_sec, r.pending_batches, r.min_batches,
                   r.linger_ms, r.buffer_bytes, r.sync_delay_ms, r.rss_bytes}) {
    s += ',';
    s += num(v);
  }
  return s;
}

monitor::monitor(int admin_port, double interval_s, std::vector<storage_change> changes,
                 std::vector<double> phase_starts)
    : port_(admin_port), interval_s_(interval_s), changes_(std::move(changes)), phase_starts_(std::move(phase_starts)) {
  std::sort(changes_.begin(), changes_.end(), [](auto& a, auto& b) { return a.at_s < b.at_s; });
}

monitor::~monitor() { finish(); }

void monitor::start() {
  if (port_ == 0 && changes_.empty()) return;
  thread_ = std::thread([this] { run(); });
}

void monitor::set_anchor(double t, bool confirmed) {
  std::lock_guard lk(mu_);
  if (anchor_confirmed_ || (!std::isnan(anchor_) && !confirmed)) return;
  anchor_ = t;
  anchor_confirmed_ = confirmed;
  // The bench reports the opening of the measured window as it happens (a tick is forced there
  // after a warm-up): a scrape right now is the exact baseline for the point's totals.
  if (confirmed && now_s() - t < 0.2) baseline_wanted_ = true;
  cv_.notify_all();
}

double monitor::anchor() const {
  std::lock_guard lk(mu_);
  return anchor_;
}

void monitor::on_progress(const bench_progress& p) {
  const double t = now_s();
  std::lock_guard lk(mu_);
  client_.push_back({t, p});
}

void monitor::finish() {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (port_ != 0) scrape_once();  // the totals need a scrape after the last acknowledged message
}

void monitor::scrape_once() {
  auto r = http_request(port_, "GET", "/metrics", {}, std::max(1.0, interval_s_));
  if (!r.ok()) {
    ++scrape_errors_;
    return;
  }
  metrics_sample s;
  s.t = now_s();
  s.values = parse_prometheus_text(r.body);
  samples_.push_back(std::move(s));
}

void monitor::run() {
  size_t next_change = 0;
  double next_scrape = now_s();
  std::unique_lock lk(mu_);
  while (!stopping_) {
    const double anchor = anchor_;
    if (baseline_wanted_ && port_ != 0) {
      baseline_wanted_ = false;
      lk.unlock();
      const size_t before = samples_.size();
      scrape_once();
      if (samples_.size() > before) baseline_index_ = static_cast<long>(before);
      lk.lock();
      continue;
    }
    double wake = port_ != 0 ? next_scrape : 1e300;
    if (next_change < changes_.size() && !std::isnan(anchor))
      wake = std::min(wake, anchor + changes_[next_change].at_s);
    const double now = now_s();
    if (wake > now) {
      // With no anchor yet, a pending change is re-checked at least every 50 ms.
      double wait = wake - now;
      if (next_change < changes_.size() && std::isnan(anchor)) wait = std::min(wait, 0.05);
      cv_.wait_for(lk, std::chrono::duration<double>(wait));
      continue;
    }
    lk.unlock();
    if (next_change < changes_.size() && !std::isnan(anchor) && now_s() >= anchor + changes_[next_change].at_s) {
      const auto& c = changes_[next_change++];
      auto r = http_request(port_, "PUT", "/v1/experiment/sync-delay", "{\"value\":\"" + c.value + "\"}", 5.0);
      monitor_event ev;
      ev.t = now_s();
      ev.what = "storage -> " + c.value;
      ev.ok = r.ok();
      ev.detail = r.ok() ? "" : (r.status ? "HTTP " + std::to_string(r.status) + ": " + r.body : r.error);
      events_.push_back(std::move(ev));
    }
    if (port_ != 0 && now_s() >= next_scrape) {
      scrape_once();
      next_scrape += interval_s_;
      if (next_scrape < now_s()) next_scrape = now_s() + interval_s_;  // fell behind: do not burst
    }
    lk.lock();
  }
}

std::vector<series_row> monitor::series() const {
  std::vector<series_row> rows;
  double anchor = this->anchor();
  if (std::isnan(anchor)) anchor = samples_.empty() ? 0 : samples_.front().t;
  auto phase_at = [&](double rel) {
    int ph = -1;
    for (size_t i = 0; i < phase_starts_.size(); ++i)
      if (rel >= phase_starts_[i] - 1e-9) ph = static_cast<int>(i);
    return ph;
  };
  auto fill_client = [&](series_row& r, double t_abs) {
    const client_sample* best = nullptr;
    for (auto& c : client_)
      if (c.t <= t_abs + 0.05) best = &c;
    if (!best) return;
    r.client_msgs_per_sec = best->p.msgs_per_sec;
    r.client_p50_ms = best->p.interval_p50_us / 1e3;
    r.client_p99_ms = best->p.interval_p99_us / 1e3;
    r.active_senders = best->p.active_senders;
  };
  if (samples_.empty()) {
    // Nothing scraped (mock broker): the bench's own reports are the series.
    for (auto& c : client_) {
      series_row r;
      r.t_s = c.t - anchor;
      r.phase = phase_at(r.t_s);
      fill_client(r, c.t);
      rows.push_back(r);
    }
    return rows;
  }
  for (size_t i = 0; i < samples_.size(); ++i) {
    const auto& s = samples_[i];
    series_row r;
    r.t_s = s.t - anchor;
    r.phase = phase_at(r.t_s);
    fill_client(r, s.t);
    // Rates over a sliver (the baseline scrape lands just after a regular one) are noise: skipped.
    if (i > 0 && s.t - samples_[i - 1].t >= 0.25 * interval_s_) {
      const auto& p = samples_[i - 1];
      const double dt = s.t - p.t;
      r.records_per_sec = ratio(delta(p, s, "kairo_kafka_produce_records_total"), dt);
      const double dflushes = delta(p, s, "kairo_pipeline_flushes_total", true);
      r.flushes_per_sec = ratio(dflushes, dt);
      r.batches_per_flush = ratio(delta(p, s, "kairo_pipeline_flushed_batches_total"), dflushes);
      r.mean_sync_ms = ratio(delta(p, s, "kairo_wal_sync_duration_seconds_sum"),
                             delta(p, s, "kairo_wal_sync_duration_seconds_count")) *
                       1e3;
    }
    r.pending_batches = s.get("kairo_pipeline_pending_batches");
    r.min_batches = s.get("kairo_pipeline_min_batches");
    r.linger_ms = s.get("kairo_pipeline_linger_seconds") * 1e3;
    r.buffer_bytes = s.get("kairo_pipeline_buffer_bytes");
    r.sync_delay_ms = s.get("kairo_wal_simulated_sync_delay_seconds") * 1e3;
    r.rss_bytes = s.get("kairo_process_resident_memory_bytes");
    rows.push_back(r);
  }
  return rows;
}

server_totals monitor::totals() const {
  server_totals t;
  t.scrapes = static_cast<int>(samples_.size());
  t.scrape_errors = scrape_errors_;
  if (samples_.empty()) return t;
  const double anchor = this->anchor();
  // Baseline: the last scrape at or before the measured window opened (else the first one).
  size_t base = 0;
  if (baseline_index_ >= 0) {
    base = static_cast<size_t>(baseline_index_);
  } else if (!std::isnan(anchor)) {
    for (size_t i = 0; i < samples_.size(); ++i)
      if (samples_[i].t <= anchor) base = i;
  }
  const auto& a = samples_[base];
  const auto& b = samples_.back();
  const double dflushes = delta(a, b, "kairo_pipeline_flushes_total", true);
  t.flushes = dflushes;
  t.flushes_min_batches = delta(a, b, "kairo_pipeline_flushes_total{reason=\"min_batches\"}");
  t.flushes_linger = delta(a, b, "kairo_pipeline_flushes_total{reason=\"linger\"}");
  t.flushes_buffer = delta(a, b, "kairo_pipeline_flushes_total{reason=\"buffer\"}");
  t.batches_per_flush = ratio(delta(a, b, "kairo_pipeline_flushed_batches_total"), dflushes);
  t.mean_sync_ms =
      ratio(delta(a, b, "kairo_wal_sync_duration_seconds_sum"), delta(a, b, "kairo_wal_sync_duration_seconds_count")) *
      1e3;
  t.records_per_group = ratio(delta(a, b, "kairo_wal_records_total"), delta(a, b, "kairo_wal_groups_total"));
  t.bytes_per_group = ratio(delta(a, b, "kairo_wal_bytes_total"), delta(a, b, "kairo_wal_groups_total"));
  double sum = 0, mx = NAN, rss = NAN, delay_sum = 0;
  int n = 0, delay_n = 0;
  for (size_t i = base; i < samples_.size(); ++i) {
    double d = samples_[i].get("kairo_wal_simulated_sync_delay_seconds");
    if (!std::isnan(d)) {
      delay_sum += d * 1e3;
      ++delay_n;
    }
    double v = samples_[i].get("kairo_pipeline_pending_batches");
    if (!std::isnan(v)) {
      sum += v;
      ++n;
      mx = std::isnan(mx) ? v : std::max(mx, v);
    }
  }
  for (auto& s : samples_) {
    double v = s.get("kairo_process_resident_memory_bytes");
    if (!std::isnan(v)) rss = std::isnan(rss) ? v : std::max(rss, v);
  }
  t.mean_pending_batches = n ? sum / n : NAN;
  t.simulated_delay_ms = delay_n ? delay_sum / delay_n : NAN;
  t.max_pending_batches = mx;
  t.max_rss_bytes = rss;
  return t;
}

}  // namespace lab::experiment
