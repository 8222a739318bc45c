#include "experiments/lab/bench_clients.h"

#include <sys/prctl.h>

#include <algorithm>
#include <cmath>

namespace lab::bench_detail {

namespace {
constexpr int64_t retry_backoff_ns = 100'000'000;  // a failed slot rests before its next message
constexpr int64_t slot_scan_ns = 1'000'000;        // schedule and retries are looked at every 1 ms
constexpr int poll_timeout_ms = 5;
constexpr size_t open_loop_buffer_bytes = size_t{256} << 20;  // copies held by in-flight open-loop messages
}  // namespace

int run_window::active_at(int64_t now) const {
  int active = cfg->concurrency;
  const double t = static_cast<double>(now - t0_ns) / 1e9;
  double best = -1e300;
  for (const auto& step : cfg->schedule) {
    if (step.at_s <= t && step.at_s >= best) {
      best = step.at_s;
      active = step.concurrency;
    }
  }
  return std::clamp(active, 0, max_senders);
}

void window_stats::add(const window_stats& o) {
  hist.merge(o.hist);
  messages += o.messages;
  failed += o.failed;
  unsent += o.unsent;
  bytes += o.bytes;
  last_ns = std::max(last_ns, o.last_ns);
}

void window_stats::reset() {
  hist.reset();
  messages = failed = unsent = bytes = 0;
  last_ns = 0;
}

// ---------------------------------------------------------------------------------------------
// producer_instance

producer_instance::producer_instance(const run_window& win, int index, int partitions)
    : win_(win), index_(index), partitions_(partitions), open_loop_(win.cfg->rate.has_value()),
      rr_(static_cast<uint64_t>(index)) {}

producer_instance::~producer_instance() {
  if (poller_.joinable() || scheduler_.joinable()) finish();
  if (rkt_ != nullptr) rd_kafka_topic_destroy(rkt_);
}

std::string producer_instance::init() {
  std::string error;
  conf_ptr conf = producer_conf(*win_.cfg, &error);
  if (!conf) return error;
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &producer_instance::on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rk_ = make_client(RD_KAFKA_PRODUCER, std::move(conf), &error);
  if (!rk_) return error;
  rkt_ = rd_kafka_topic_new(rk_.get(), win_.cfg->topic.c_str(), nullptr);
  if (rkt_ == nullptr) return std::string("cannot create topic handle: ") + rd_kafka_err2str(rd_kafka_last_error());
  // Connect and learn the leaders now, so that the first messages do not wait for metadata.
  const rd_kafka_metadata_t* md = nullptr;
  const auto err = rd_kafka_metadata(rk_.get(), 0, rkt_, &md, setup_timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return "producer " + std::to_string(index_) + " cannot fetch metadata: " + rd_kafka_err2str(err);
  }
  rd_kafka_metadata_destroy(md);
  if (!open_loop_) {
    slots_.resize(static_cast<size_t>(win_.max_senders));
    for (size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].index = static_cast<int>(i);
      slots_[i].payload = make_payload(win_.cfg->message_size, (static_cast<uint64_t>(index_) << 32) | i);
    }
  }
  return {};
}

void producer_instance::start() {
  poller_ = std::thread([this] { poll_loop(); });
  if (open_loop_) scheduler_ = std::thread([this] { schedule_loop(); });
}

void producer_instance::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<producer_instance*>(opaque)->delivered(m);
}

void producer_instance::account(int64_t event_ns, int64_t latency_ns, bool ok, bool unsent) {
  const auto bytes = static_cast<uint64_t>(win_.cfg->message_size);
  auto add = [&](window_stats& w) {
    if (ok) {
      ++w.messages;
      w.bytes += bytes;
      w.hist.record(static_cast<uint64_t>(std::max<int64_t>(latency_ns, 0)));
    } else {
      ++w.failed;
      if (unsent) ++w.unsent;
    }
    w.last_ns = std::max(w.last_ns, event_ns);
  };
  add(interval_);
  if (event_ns < win_.t0_ns) return;  // warm-up
  if (event_ns <= win_.end_ns.load(std::memory_order_relaxed)) {
    add(measured_);
  } else if (ok) {
    measured_.hist.record(static_cast<uint64_t>(std::max<int64_t>(latency_ns, 0)));
  } else {
    ++measured_.failed;  // a message of the window that failed during the drain
  }
}

void producer_instance::delivered(const rd_kafka_message_t* m) {
  const int64_t now = now_ns();
  const bool ok = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
  slot* s = open_loop_ ? nullptr : static_cast<slot*>(m->_private);
  const int64_t sent = open_loop_ ? static_cast<int64_t>(reinterpret_cast<intptr_t>(m->_private)) : s->sent_ns;
  bool counting = false;
  {
    std::lock_guard lk(mu_);
    counting = !finished_;
    if (counting) account(now, now - sent, ok, false);
    in_flight_.fetch_sub(1);
  }
  if (ok) ok_total_.fetch_add(1, std::memory_order_relaxed);
  if (s == nullptr) return;
  s->in_flight = false;
  if (!ok) {
    s->retry_at_ns = now + retry_backoff_ns;
    return;
  }
  // The closed loop: this slot's next message leaves as soon as its previous one is acknowledged.
  if (counting && sending_.load(std::memory_order_relaxed) && s->index < active_.load(std::memory_order_relaxed)) {
    send(*s, now);
  }
}

void producer_instance::send(slot& s, int64_t now) {
  s.sent_ns = now_ns();
  stamp_payload(s.payload.data(), s.payload.size(), s.sent_ns);
  s.in_flight = true;
  in_flight_.fetch_add(1);
  // No copy: the slot's buffer stays untouched until this message's delivery report.
  if (rd_kafka_produce(rkt_, next_partition(), 0, s.payload.data(), s.payload.size(), nullptr, 0, &s) == -1) {
    s.in_flight = false;
    {
      std::lock_guard lk(mu_);
      if (!finished_) account(now, 0, false, false);
      in_flight_.fetch_sub(1);
    }
    s.retry_at_ns = now + retry_backoff_ns;
  }
}

void producer_instance::manage_slots(int64_t now) {
  if (now < next_scan_ns_) return;
  next_scan_ns_ = now + slot_scan_ns;
  const int active = win_.active_at(now);
  active_.store(active, std::memory_order_relaxed);
  if (!sending_.load(std::memory_order_relaxed)) return;
  // Slots at or above `active` stay parked: their last delivery report did not resend.
  for (int i = 0; i < active; ++i) {
    slot& s = slots_[static_cast<size_t>(i)];
    if (!s.in_flight && s.retry_at_ns <= now) send(s, now);
  }
}

void producer_instance::poll_loop() {
  while (!exit_.load(std::memory_order_relaxed)) {
    rd_kafka_poll(rk_.get(), poll_timeout_ms);
    if (!open_loop_) {
      bool done;
      {
        std::lock_guard lk(mu_);
        done = finished_;
      }
      if (!done) manage_slots(now_ns());
    }
  }
}

void producer_instance::schedule_loop() {
  // Default 50 us timer slack would make every send late by that much on average; the lateness
  // is charged to latency, so keep it small.
  prctl(PR_SET_TIMERSLACK, 1UL);
  const bench_config& cfg = *win_.cfg;
  const double rate = *cfg.rate / cfg.producers;  // this producer's share
  const double period_ns = 1e9 / rate;
  const auto cap = static_cast<int64_t>(std::clamp<double>(
      std::min(rate * 2, static_cast<double>(open_loop_buffer_bytes / std::max<size_t>(cfg.message_size, 1))), 1000,
      1'000'000));
  // Producers interleave their schedules so the total is evenly spaced.
  double next = static_cast<double>(win_.start_ns) + period_ns * index_ / cfg.producers;
  std::vector<char> payload = make_payload(cfg.message_size, static_cast<uint64_t>(index_) << 32);
  while (sending_.load(std::memory_order_relaxed)) {
    const int64_t now = now_ns();
    while (next <= static_cast<double>(now) && sending_.load(std::memory_order_relaxed)) {
      // Latency is measured from the scheduled time, so a late send is charged to the broker's
      // account of the run rather than silently forgiven (no coordinated omission).
      const auto scheduled = static_cast<int64_t>(next);
      next += period_ns;
      bool sent = false;
      if (in_flight_.load() < cap) {
        stamp_payload(payload.data(), payload.size(), scheduled);
        in_flight_.fetch_add(1);
        sent = rd_kafka_produce(rkt_, next_partition(), RD_KAFKA_MSG_F_COPY, payload.data(), payload.size(), nullptr, 0,
                                reinterpret_cast<void*>(static_cast<intptr_t>(scheduled))) == 0;
        if (!sent) in_flight_.fetch_sub(1);
      }
      if (!sent) {
        std::lock_guard lk(mu_);
        if (!finished_) account(scheduled, 0, false, true);
      }
    }
    const auto wait = std::min<double>(next - static_cast<double>(now_ns()), 1e6);
    if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(static_cast<int64_t>(wait)));
  }
}

uint64_t producer_instance::finish() {
  sending_.store(false);
  if (scheduler_.joinable()) scheduler_.join();
  uint64_t unacked = 0;
  {
    std::lock_guard lk(mu_);
    finished_ = true;
    unacked = static_cast<uint64_t>(std::max<int64_t>(in_flight_.load(), 0));
  }
  if (rk_) {
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    // Let the poller serve the purge reports (slot buffers must outlive them), bounded.
    const int64_t deadline = now_ns() + 2'000'000'000;
    while (in_flight_.load() > 0 && now_ns() < deadline && poller_.joinable()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  exit_.store(true);
  if (poller_.joinable()) poller_.join();
  return unacked;
}

void producer_instance::take_interval(window_stats& into) {
  std::lock_guard lk(mu_);
  into.add(interval_);
  interval_.reset();
}

void producer_instance::add_measured(window_stats& into) {
  std::lock_guard lk(mu_);
  into.add(measured_);
}

// ---------------------------------------------------------------------------------------------
// consumer_instance

consumer_instance::consumer_instance(const run_window& win, int partitions) : win_(win), partitions_(partitions) {}

consumer_instance::~consumer_instance() { stop(); }

std::string consumer_instance::init(bool from_end) {
  from_end_ = from_end;
  std::string error;
  conf_ptr conf = consumer_conf(*win_.cfg, &error);
  if (!conf) return error;
  rk_ = make_client(RD_KAFKA_CONSUMER, std::move(conf), &error);
  if (!rk_) return error;
  auto [marks, werr] = query_watermarks(rk_.get(), win_.cfg->topic, partitions_);
  if (!werr.empty()) return werr;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions_);
  bool all_done = true;
  for (int p = 0; p < partitions_; ++p) {
    const auto [lo, hi] = marks[static_cast<size_t>(p)];
    rd_kafka_topic_partition_list_add(parts, win_.cfg->topic.c_str(), p)->offset = from_end ? hi : lo;
    end_offsets_.push_back(hi);
    next_offsets_.push_back(from_end ? hi : lo);
    if (lo < hi) all_done = false;
  }
  const auto err = rd_kafka_assign(rk_.get(), parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::string("cannot assign partitions: ") + rd_kafka_err2str(err);
  if (!from_end && all_done) caught_up_.store(true);
  return {};
}

void consumer_instance::start() {
  thread_ = std::thread([this] { loop(); });
}

void consumer_instance::stop() {
  exit_.store(true);
  if (thread_.joinable()) thread_.join();
}

void consumer_instance::loop() {
  int partitions_left = 0;
  for (int p = 0; p < partitions_; ++p) {
    if (next_offsets_[static_cast<size_t>(p)] < end_offsets_[static_cast<size_t>(p)]) ++partitions_left;
  }
  while (!exit_.load(std::memory_order_relaxed)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), 50);
    if (m == nullptr) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {  // transient fetch errors: librdkafka retries
      rd_kafka_message_destroy(m);
      continue;
    }
    const int64_t now = now_ns();
    const auto stamp = from_end_ ? read_stamp(m->payload, m->len) : std::nullopt;
    {
      std::lock_guard lk(mu_);
      auto add = [&](window_stats& w) {
        ++w.messages;
        w.bytes += m->len;
        if (stamp) w.hist.record(static_cast<uint64_t>(std::max<int64_t>(now - *stamp, 0)));
        w.last_ns = now;
      };
      add(interval_);
      if (now >= win_.t0_ns) add(measured_);
    }
    received_total_.fetch_add(1, std::memory_order_relaxed);
    if (!from_end_ && m->partition >= 0 && m->partition < partitions_) {
      auto& next = next_offsets_[static_cast<size_t>(m->partition)];
      const int64_t end = end_offsets_[static_cast<size_t>(m->partition)];
      if (next < end && m->offset + 1 >= end && --partitions_left == 0) caught_up_.store(true);
      next = std::max(next, m->offset + 1);
    }
    rd_kafka_message_destroy(m);
  }
}

void consumer_instance::take_interval(window_stats& into) {
  std::lock_guard lk(mu_);
  into.add(interval_);
  interval_.reset();
}

void consumer_instance::add_measured(window_stats& into) {
  std::lock_guard lk(mu_);
  into.add(measured_);
}

}  // namespace lab::bench_detail
