#pragma once
// The engine speaks the project's one error convention (util/result.h); its codes are
// engine::errc (engine/errc.h).
#include "util/result.h"

namespace engine {

using util::error;
using util::fail;
using util::result;

}  // namespace engine
