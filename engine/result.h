#pragma once
// The engine returns the same result type as the WAL, so errors cross the boundary unchanged in
// shape; the values are engine::errc (engine/errc.h).
#include "wal/result.h"

namespace engine {

using wal::fail;
using wal::result;

}  // namespace engine
