#pragma once
// The retention task: a thread of its own that, every --log-retention-check-interval-ms, moves
// each partition's log start as its topic's retention asks and removes the WAL segments that
// hold nothing live (engine::log_manager::enforce_retention). Produce and fetch never wait for
// it. Thread-safe.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "engine/broker.h"
#include "server/kafka/coordinator_service.h"
#include "server/kafka/topic_configs.h"

namespace server {

class retention_task {
 public:
  retention_task(engine::log_manager& engine, const kafka::live_defaults& defaults,
                 kafka::coordinator_service& coordinators, std::chrono::milliseconds every);
  ~retention_task();  // stop()s
  retention_task(const retention_task&) = delete;
  retention_task& operator=(const retention_task&) = delete;

  void start();
  // Ends the thread; a pass under way finishes first. Idempotent.
  void stop();
  // Runs one pass now, on the calling thread (tests, the admin API).
  engine::result<engine::log_manager::retention_report> run_once();

  struct totals {
    uint64_t passes = 0;
    uint64_t failures = 0;
    uint64_t segments_removed = 0;
    uint64_t bytes_removed = 0;
    uint64_t wal_bytes = 0;  // after the last pass
  };
  totals stats() const;

 private:
  void run();

  engine::log_manager& engine_;
  const kafka::live_defaults& defaults_;
  kafka::coordinator_service& coordinators_;
  const std::chrono::milliseconds every_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  totals totals_;      // guarded by mu_
  std::thread thread_;
};

}  // namespace server
