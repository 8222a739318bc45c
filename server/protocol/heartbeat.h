#pragma once

// Heartbeat (key 12), v0-4; v4+ flexible.

#include <cstdint>
#include <optional>
#include <string>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct heartbeat_request {
  std::string group_id;
  std::int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+

  static heartbeat_request decode(reader& r, std::int16_t version);
};

struct heartbeat_response {
  std::int32_t throttle_time_ms = 0;  // v1+
  error_code error = error_code::none;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
