#include "server/retention.h"

#include <spdlog/spdlog.h>

#include "engine/errc.h"

namespace server {

retention_task::retention_task(engine::log_manager& engine, const kafka::live_defaults& defaults,
                               kafka::coordinator_service& coordinators, std::chrono::milliseconds every)
    : engine_(engine), defaults_(defaults), coordinators_(coordinators), every_(every) {}

retention_task::~retention_task() { stop(); }

void retention_task::start() {
  thread_ = std::thread([this] { run(); });
}

void retention_task::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

engine::result<engine::log_manager::retention_report> retention_task::run_once() {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto r = engine_.enforce_retention(
      now_ms, [this](const engine::topic_info& t) { return kafka::retention_of(defaults_, t.configs); },
      [this] { return coordinators_.restate(std::chrono::seconds(30)); });
  std::lock_guard lock(mu_);
  ++totals_.passes;
  if (!r) {
    ++totals_.failures;
    return r;
  }
  totals_.segments_removed += r->segments_removed;
  totals_.bytes_removed += r->bytes_removed;
  totals_.wal_bytes = r->wal_bytes;
  return r;
}

retention_task::totals retention_task::stats() const {
  std::lock_guard lock(mu_);
  return totals_;
}

void retention_task::run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, every_, [this] { return stop_; })) return;
    }
    auto r = run_once();
    if (!r && r.error() != engine::errc::shutting_down) spdlog::warn("retention pass failed: {}", r.error().message());
    else if (r && (r->partitions_moved || r->segments_removed || r->partitions_relocated))
      spdlog::info(
          "retention: {} partition log start(s) moved, {} partition(s) copied forward ({:.1f} MiB), {} segment(s) "
          "removed ({:.1f} MiB), WAL now {:.1f} MiB",
          r->partitions_moved, r->partitions_relocated, static_cast<double>(r->bytes_relocated) / 1048576.0,
          r->segments_removed, static_cast<double>(r->bytes_removed) / 1048576.0,
          static_cast<double>(r->wal_bytes) / 1048576.0);
  }
}

}  // namespace server
