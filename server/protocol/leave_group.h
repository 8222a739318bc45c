#pragma once

// LeaveGroup (key 13), v0-5; v4+ flexible. v0-2 name one member (member_id); v3+ batch members
// with their group.instance.id. Both shapes decode to `members`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct leave_group_request {
  struct member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v3+
    std::optional<std::string> reason;             // v5+
  };

  std::string group_id;
  std::vector<member> members;  // v0-2: exactly one, from member_id

  static leave_group_request decode(reader& r, std::int16_t version);
};

struct leave_group_response {
  struct member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    error_code error = error_code::none;
  };

  std::int32_t throttle_time_ms = 0;  // v1+
  error_code error = error_code::none;
  std::vector<member> members;  // v3+ only on the wire

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
