#pragma once
#include <spdlog/spdlog.h>

namespace server::kafka {
// The Kafka front end's named logger ("kafka").
spdlog::logger& log();
}  // namespace server::kafka
