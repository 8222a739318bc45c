#include "server/kafka/logger.h"

#include <memory>

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

}  // namespace server::kafka
