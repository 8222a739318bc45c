#pragma once
// The WAL speaks the project's one error convention (util/result.h).
#include "util/result.h"

namespace wal {

using util::error;
using util::fail;
using util::result;

}  // namespace wal
