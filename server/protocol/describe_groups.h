#pragma once

// DescribeGroups (key 15), v0-5; v5+ flexible.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct describe_groups_request {
  std::vector<std::string> groups;
  bool include_authorized_operations = false;  // v3+

  static describe_groups_request decode(reader& r, std::int16_t version);
};

struct describe_groups_response {
  struct member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v4+
    std::string client_id;
    std::string client_host;
    byte_view member_metadata;    // must outlive encode()
    byte_view member_assignment;  // must outlive encode()
  };
  struct group {
    error_code error = error_code::none;
    std::string group_id;
    std::string group_state;
    std::string protocol_type;
    std::string protocol_data;
    std::vector<member> members;
    std::int32_t authorized_operations = std::numeric_limits<std::int32_t>::min();  // v3+
  };

  std::int32_t throttle_time_ms = 0;  // v1+
  std::vector<group> groups;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
