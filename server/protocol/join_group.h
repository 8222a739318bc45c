#pragma once

// JoinGroup (key 11), v0-9; v6+ flexible. v4+ clients expect MEMBER_ID_REQUIRED on a first join
// with an empty member id; that rule lives in the coordinator, not here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct join_group_request {
  struct protocol {
    std::string name;
    byte_view metadata;  // view into the request frame
  };

  std::string group_id;
  std::int32_t session_timeout_ms = 0;
  std::int32_t rebalance_timeout_ms = -1;  // v1+; -1 when absent (v0): use the session timeout
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v5+
  std::string protocol_type;
  std::vector<protocol> protocols;
  std::optional<std::string> reason;  // v8+

  static join_group_request decode(reader& r, std::int16_t version);
};

struct join_group_response {
  struct member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v5+
    byte_view metadata;                            // must outlive encode()
  };

  std::int32_t throttle_time_ms = 0;  // v2+
  error_code error = error_code::none;
  std::int32_t generation_id = -1;
  std::optional<std::string> protocol_type;  // v7+, nullable
  std::optional<std::string> protocol_name;  // nullable v7+; v0-6 send null as ""
  std::string leader;
  bool skip_assignment = false;  // v9+
  std::string member_id;
  std::vector<member> members;  // only the leader's answer lists them

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
