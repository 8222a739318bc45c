#pragma once
// The composition root of `kairo serve`: opens the engine, starts the io threads, the Kafka
// listener, and waits for SIGINT/SIGTERM to shut down cleanly.
#include "server/config.h"

namespace server {

// Returns the process exit code: 0 after a clean shutdown, 1 when startup failed (with the
// reason logged in words).
int run_serve(const serve_config& config);

}  // namespace server
