#pragma once
#include <spdlog/spdlog.h>

namespace server::kafka {
// The Kafka front end's named logger ("kafka").
spdlog::logger& log();

// Lines about one client (a connection closed, a request refused) are rate-limited together: at
// most 20 per 5 s, so a thousand misbehaving connections cannot flood the log. True when this
// line may be written; `suppressed` then says how many were dropped since the last one written.
// Thread-safe.
bool client_line_allowed(uint64_t& suppressed);
}  // namespace server::kafka
