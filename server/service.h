#pragma once
// Running under a service manager: log lines a journal reader can filter, and readiness and
// stopping told to systemd (Type=notify) when it asks for it (NOTIFY_SOCKET). No libsystemd:
// the notify protocol is one datagram on a unix socket.
#include <string>
#include <string_view>

namespace server {

// "text" (the default, left as spdlog writes it: timestamp, module, level) or "journal" ("<priority>module: message",
// the syslog priority prefix journald reads, no timestamp since the journal adds one).
// Throws std::invalid_argument for anything else.
void set_log_format(const std::string& format);

// Sends `state` (e.g. "READY=1", "STOPPING=1", "STATUS=...") to $NOTIFY_SOCKET if it is set
// (a path, or an abstract name starting with '@'). Returns false when it is unset or the send
// failed; never throws.
bool notify_service_manager(std::string_view state);

}  // namespace server
