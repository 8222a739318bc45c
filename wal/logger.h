#pragma once
#include <memory>

#include <spdlog/spdlog.h>

namespace wal {
// The module's named logger ("wal"), registered once with spdlog so levels set globally apply.
spdlog::logger& log();
}  // namespace wal
