#include "engine/logger.h"

#include <memory>

namespace engine {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("engine")) return existing;
    auto l = spdlog::default_logger()->clone("engine");
    spdlog::register_logger(l);
    return l;
  }();
  return *logger;
}

}  // namespace engine
