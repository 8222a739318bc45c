#include "server/kafka/logger.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <utility>

namespace server::kafka {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("kafka")) return existing;
    auto l = spdlog::default_logger()->clone("kafka");
    spdlog::register_logger(l);
    return l;
  }();
  return *logger;
}

bool client_line_allowed(uint64_t& suppressed) {
  constexpr int per_window = 20;
  constexpr auto window = std::chrono::seconds(5);
  static std::mutex mu;
  static std::chrono::steady_clock::time_point window_start{};
  static int written = 0;
  static uint64_t dropped = 0;
  std::lock_guard lock(mu);
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start >= window) {
    window_start = now;
    written = 0;
  }
  if (written >= per_window) {
    ++dropped;
    return false;
  }
  ++written;
  suppressed = std::exchange(dropped, 0);
  return true;
}

}  // namespace server::kafka
