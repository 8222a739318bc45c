#pragma once
// The bench's load: producer instances (one librdkafka producer = one connection each, with N
// logical senders) and the consumer of round-trip/consume runs. Internal to `kairo-lab bench`.
//
// Sender model: a sender is a slot, not a thread. Each producer has ONE poller thread that serves
// delivery reports; the report of a slot's message records its latency and immediately produces
// that slot's next message from inside the callback, so every slot has exactly one message in
// flight and the loop closes with no thread hand-off. Slots are touched only by the poller thread.
// Open loop (--rate): a scheduler thread per producer emits at fixed times instead.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "experiments/lab/bench.h"
#include "experiments/lab/bench_kafka.h"
#include "experiments/lab/histogram.h"

namespace lab::bench_detail {

// The run's timeline, fixed before the load starts.
struct run_window {
  int64_t start_ns = 0;  // load (warm-up) starts
  int64_t t0_ns = 0;     // measured window starts: events at or after t0 count
  // Measured window ends (set when sending stops). Acks after it, from the drain, still go into
  // the latency histogram (every sample counts) but not into messages/bytes, so the rate is
  // exactly what was acknowledged inside [t0, end].
  std::atomic<int64_t> end_ns{INT64_MAX};
  const bench_config* cfg = nullptr;
  int max_senders = 1;  // slots per producer

  // Active senders per producer at `now` (schedule steps are relative to t0).
  int active_at(int64_t now) const;
};

// Counters and a latency histogram for one window (measured, or one progress interval).
struct window_stats {
  latency_histogram hist;
  uint64_t messages = 0;
  uint64_t failed = 0;
  uint64_t unsent = 0;
  uint64_t bytes = 0;
  int64_t last_ns = 0;  // time of the latest counted event

  void add(const window_stats& o);
  void reset();
};

class producer_instance {
 public:
  producer_instance(const run_window& win, int index, int partitions);
  ~producer_instance();
  producer_instance(const producer_instance&) = delete;
  producer_instance& operator=(const producer_instance&) = delete;

  std::string init();  // client, topic handle, metadata primed; error text on failure
  void start();        // poller (+ scheduler) threads; slots start at the window's start
  void stop_sending() { sending_.store(false); }
  int64_t in_flight() const { return in_flight_.load(); }
  uint64_t delivered_ok_total() const { return ok_total_.load(); }  // every phase, for round-trip
  int active_senders() const { return active_.load(std::memory_order_relaxed); }
  // After the drain: stops counting, purges what is left, joins the threads. Returns the number
  // of messages that were still unacknowledged when counting stopped.
  uint64_t finish();

  void take_interval(window_stats& into);  // adds this interval's stats and resets them
  void add_measured(window_stats& into);   // adds the measured window's stats so far

 private:
  struct slot {
    int index = 0;
    bool in_flight = false;
    int64_t sent_ns = 0;
    int64_t retry_at_ns = 0;  // after a failure, resend no earlier than this
    std::vector<char> payload;
  };

  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  void delivered(const rd_kafka_message_t* m);
  void send(slot& s, int64_t now);  // REQUIRES: poller thread, !s.in_flight
  void manage_slots(int64_t now);   // REQUIRES: poller thread
  void poll_loop();
  void schedule_loop();                                                      // open loop only
  void account(int64_t event_ns, int64_t latency_ns, bool ok, bool unsent);  // REQUIRES: mu_ held
  int next_partition() { return static_cast<int>(rr_++ % static_cast<uint64_t>(partitions_)); }

  const run_window& win_;
  const int index_;
  const int partitions_;
  const bool open_loop_;
  rk_ptr rk_;
  rd_kafka_topic_t* rkt_ = nullptr;
  std::vector<slot> slots_;  // poller thread only
  uint64_t rr_ = 0;          // poller thread (closed loop) or scheduler thread (open loop)
  int64_t next_scan_ns_ = 0;

  std::atomic<bool> sending_{true};
  bool finished_ = false;  // guarded by mu_: a report is either counted or unacknowledged, never both
  std::atomic<bool> exit_{false};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> ok_total_{0};
  std::atomic<int> active_{0};

  std::mutex mu_;  // guards measured_ and interval_; taken once per delivery report
  window_stats measured_;
  window_stats interval_;

  std::thread poller_;
  std::thread scheduler_;
};

// Round-trip: reads from the end offsets captured before the load and records e2e latency from
// each payload's stamp. Consume: reads from the beginning up to the end offsets captured at start.
class consumer_instance {
 public:
  consumer_instance(const run_window& win, int partitions);
  ~consumer_instance();
  consumer_instance(const consumer_instance&) = delete;
  consumer_instance& operator=(const consumer_instance&) = delete;

  std::string init(bool from_end);  // client, watermarks, assignment
  void start();
  void stop();
  bool caught_up() const { return caught_up_.load(); }  // consume mode: every partition read to its start-time end
  uint64_t received_total() const { return received_total_.load(); }

  void take_interval(window_stats& into);
  void add_measured(window_stats& into);

 private:
  void loop();

  const run_window& win_;
  const int partitions_;
  rk_ptr rk_;
  std::vector<int64_t> end_offsets_;   // consume mode targets
  std::vector<int64_t> next_offsets_;  // consumer thread only
  bool from_end_ = true;

  std::atomic<bool> exit_{false};
  std::atomic<bool> caught_up_{false};
  std::atomic<uint64_t> received_total_{0};

  std::mutex mu_;
  window_stats measured_;
  window_stats interval_;
  std::thread thread_;
};

}  // namespace lab::bench_detail
