// run_bench: sets up the topic, starts the producers (and the consumer), drives the timeline
// (warm-up, measured window, drain) and reports progress and the result.
#include <algorithm>
#include <memory>
#include <thread>

#include "experiments/lab/bench.h"
#include "experiments/lab/bench_clients.h"
#include "experiments/lab/bench_options.h"

namespace lab {

using namespace bench_detail;

namespace {

constexpr int64_t drain_timeout_ns = 10'000'000'000;        // in-flight messages after the window
constexpr int64_t e2e_catch_up_timeout_ns = 5'000'000'000;  // round-trip: consumer catching up
constexpr int64_t max_sleep_ns = 20'000'000;                // how often *stop is looked at

latency_summary summarize(const latency_histogram& h) {
  latency_summary s;
  s.p50 = h.percentile_ns(0.50) / 1e3;
  s.p90 = h.percentile_ns(0.90) / 1e3;
  s.p95 = h.percentile_ns(0.95) / 1e3;
  s.p99 = h.percentile_ns(0.99) / 1e3;
  s.p999 = h.percentile_ns(0.999) / 1e3;
  s.max = static_cast<double>(h.max_ns()) / 1e3;
  s.mean = h.mean_ns() / 1e3;
  return s;
}

void sleep_ns(int64_t ns) {
  if (ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(ns, max_sleep_ns)));
}

// Drives the progress callback. Intervals never straddle the warm-up/measured boundary: a tick
// is forced at t0.
class progress_driver {
 public:
  progress_driver(const run_window& win, const bench_config& cfg, const std::function<void(const bench_progress&)>& cb,
                  std::vector<std::unique_ptr<producer_instance>>& producers, consumer_instance* consumer)
      : win_(win), cb_(cb), producers_(producers), consumer_(consumer),
        interval_ns_(cfg.progress_interval_s > 0 ? static_cast<int64_t>(cfg.progress_interval_s * 1e9) : 0),
        last_tick_(win.start_ns) {
    next_tick_ = interval_ns_ ? win.start_ns + interval_ns_ : INT64_MAX;
    if (win.t0_ns > win.start_ns) next_tick_ = std::min(next_tick_, win.t0_ns);
  }

  int64_t next_tick() const { return next_tick_; }

  void tick(int64_t now) {
    emit(now);
    if (next_tick_ == win_.t0_ns && win_.t0_ns > win_.start_ns) {
      next_tick_ = interval_ns_ ? win_.t0_ns + interval_ns_ : INT64_MAX;
    } else {
      next_tick_ = interval_ns_ ? next_tick_ + interval_ns_ : INT64_MAX;
    }
    if (next_tick_ <= now) next_tick_ = now + std::max<int64_t>(interval_ns_, 1);
  }

  // The last, partial interval (when the window does not end on a tick).
  void finish(int64_t now) {
    if (interval_ns_ && now - last_tick_ > 1'000'000) emit(now);
  }

 private:
  void emit(int64_t now) {
    window_stats iv;
    for (auto& p : producers_) p->take_interval(iv);
    const bool consume = producers_.empty();
    if (consume && consumer_ != nullptr) consumer_->take_interval(iv);
    else if (consumer_ != nullptr) consumer_->take_interval(scratch_);  // e2e is summarized at the end only
    scratch_.reset();
    const bool warming = last_tick_ < win_.t0_ns;
    const double secs = std::max(1e-9, static_cast<double>(now - last_tick_) / 1e9);

    bench_progress pr;
    pr.warming_up = warming;
    pr.elapsed_s = static_cast<double>(now - (warming ? win_.start_ns : win_.t0_ns)) / 1e9;
    pr.msgs_per_sec = static_cast<double>(iv.messages) / secs;
    pr.mb_per_sec = static_cast<double>(iv.bytes) / secs / 1e6;
    pr.interval_p50_us = iv.hist.percentile_ns(0.50) / 1e3;
    pr.interval_p99_us = iv.hist.percentile_ns(0.99) / 1e3;
    if (warming) {
      warmup_.add(iv);
      pr.messages = warmup_.messages;
      pr.failed = warmup_.failed;
      pr.p99_us = warmup_.hist.percentile_ns(0.99) / 1e3;
    } else {
      window_stats m;
      for (auto& p : producers_) p->add_measured(m);
      if (consume && consumer_ != nullptr) consumer_->add_measured(m);
      pr.messages = m.messages;
      pr.failed = m.failed;
      pr.p99_us = m.hist.percentile_ns(0.99) / 1e3;
    }
    pr.active_senders = producers_.empty() || win_.cfg->rate ? 0 : producers_.front()->active_senders();
    last_tick_ = now;
    if (cb_) cb_(pr);
  }

  const run_window& win_;
  const std::function<void(const bench_progress&)>& cb_;
  std::vector<std::unique_ptr<producer_instance>>& producers_;
  consumer_instance* consumer_;
  const int64_t interval_ns_;
  int64_t last_tick_;
  int64_t next_tick_;
  window_stats warmup_;
  window_stats scratch_;
};

void fill_rates(bench_result& r) {
  if (r.seconds > 0) {
    r.msgs_per_sec = static_cast<double>(r.messages) / r.seconds;
    r.mb_per_sec = static_cast<double>(r.bytes) / r.seconds / 1e6;
  }
}

bench_result run_consume(bench_result r, run_window& win, const std::function<void(const bench_progress&)>& cb,
                         const std::atomic<bool>* stop) {
  consumer_instance consumer(win, r.topic_partitions);
  if (auto e = consumer.init(/*from_end=*/false); !e.empty()) {
    r.error = e;
    return r;
  }
  std::vector<std::unique_ptr<producer_instance>> none;
  win.start_ns = win.t0_ns = now_ns();  // nothing to warm up: the data is already there
  const int64_t t_end = win.t0_ns + static_cast<int64_t>(r.config.duration_s * 1e9);
  progress_driver progress(win, r.config, cb, none, &consumer);
  consumer.start();
  int64_t now = now_ns();
  while (now < t_end && !consumer.caught_up() && !(stop && stop->load())) {
    if (now >= progress.next_tick()) progress.tick(now);
    sleep_ns(std::min(progress.next_tick(), t_end) - now);
    now = now_ns();
  }
  consumer.stop();
  progress.finish(now);
  window_stats m;
  consumer.add_measured(m);
  r.messages = m.messages;
  r.bytes = m.bytes;
  const int64_t end = consumer.caught_up() && m.last_ns > 0 ? m.last_ns : now;
  r.seconds = static_cast<double>(end - win.t0_ns) / 1e9;
  fill_rates(r);
  return r;
}

}  // namespace

bench_result run_bench(const bench_config& cfg, const std::function<void(const bench_progress&)>& on_progress,
                       const std::atomic<bool>* stop) {
  bench_result r;
  r.config = cfg;
  if (auto e = validate(cfg); !e.empty()) {
    r.error = e;
    return r;
  }
  auto [partitions, topic_error] = ensure_topic(cfg);
  if (!topic_error.empty()) {
    r.error = topic_error;
    return r;
  }
  r.topic_partitions = partitions;

  run_window win;
  win.cfg = &cfg;  // the caller's config outlives the run; r is moved below
  win.max_senders = cfg.concurrency;
  for (const auto& s : cfg.schedule) win.max_senders = std::max(win.max_senders, s.concurrency);
  if (cfg.mode == bench_mode::consume) return run_consume(std::move(r), win, on_progress, stop);

  std::vector<std::unique_ptr<producer_instance>> producers;
  for (int i = 0; i < cfg.producers; ++i) {
    producers.push_back(std::make_unique<producer_instance>(win, i, partitions));
    if (auto e = producers.back()->init(); !e.empty()) {
      r.error = e;
      return r;
    }
  }
  std::unique_ptr<consumer_instance> consumer;
  if (cfg.mode == bench_mode::round_trip) {
    consumer = std::make_unique<consumer_instance>(win, partitions);
    if (auto e = consumer->init(/*from_end=*/true); !e.empty()) {
      r.error = e;
      return r;
    }
  }

  win.start_ns = now_ns();
  win.t0_ns = win.start_ns + static_cast<int64_t>(cfg.warmup_s * 1e9);
  const int64_t t_end = win.t0_ns + static_cast<int64_t>(cfg.duration_s * 1e9);
  progress_driver progress(win, cfg, on_progress, producers, consumer.get());
  if (consumer) consumer->start();
  for (auto& p : producers) p->start();

  int64_t now = now_ns();
  while (now < t_end && !(stop && stop->load())) {
    if (now >= progress.next_tick()) progress.tick(now);
    sleep_ns(std::min(progress.next_tick(), t_end) - now);
    now = now_ns();
  }
  const int64_t stop_ns = now;
  win.end_ns.store(stop_ns);
  for (auto& p : producers) p->stop_sending();
  auto in_flight = [&] {
    int64_t n = 0;
    for (auto& p : producers) n += p->in_flight();
    return n;
  };
  while (in_flight() > 0 && now_ns() < stop_ns + drain_timeout_ns) sleep_ns(1'000'000);
  uint64_t unacked = 0;
  for (auto& p : producers) unacked += p->finish();
  progress.finish(now_ns());

  window_stats m;
  for (auto& p : producers) p->add_measured(m);
  r.messages = m.messages;
  r.failed = m.failed + unacked;
  r.unsent = m.unsent;
  r.bytes = m.bytes;
  r.seconds = std::max<double>(0, static_cast<double>(stop_ns - win.t0_ns) / 1e9);
  fill_rates(r);
  r.latency = summarize(m.hist);

  if (consumer) {
    uint64_t produced = 0;
    for (auto& p : producers) produced += p->delivered_ok_total();
    const int64_t deadline = now_ns() + e2e_catch_up_timeout_ns;
    while (consumer->received_total() < produced && now_ns() < deadline) sleep_ns(1'000'000);
    consumer->stop();
    window_stats e;
    consumer->add_measured(e);
    r.received = e.messages;
    r.e2e_latency = summarize(e.hist);
  }
  return r;
}

}  // namespace lab
