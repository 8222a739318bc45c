#pragma once
#include <spdlog/spdlog.h>

namespace engine {
// The module's named logger ("engine"), registered once with spdlog so levels set globally apply.
spdlog::logger& log();
}  // namespace engine
