#pragma once

// ListGroups (key 16), v0-4; v3+ flexible.

#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct list_groups_request {
  std::vector<std::string> states_filter;  // v4+; empty: every state

  static list_groups_request decode(reader& r, std::int16_t version);
};

struct list_groups_response {
  struct group {
    std::string group_id;
    std::string protocol_type;
    std::string group_state;  // v4+
  };

  std::int32_t throttle_time_ms = 0;  // v1+
  error_code error = error_code::none;
  std::vector<group> groups;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
