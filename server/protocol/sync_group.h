#pragma once

// SyncGroup (key 14), v0-5; v4+ flexible.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct sync_group_request {
  struct assignment {
    std::string member_id;
    byte_view assignment;  // view into the request frame
  };

  std::string group_id;
  std::int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
  std::optional<std::string> protocol_type;      // v5+
  std::optional<std::string> protocol_name;      // v5+
  std::vector<assignment> assignments;           // only the leader sends them

  static sync_group_request decode(reader& r, std::int16_t version);
};

struct sync_group_response {
  std::int32_t throttle_time_ms = 0;  // v1+
  error_code error = error_code::none;
  std::optional<std::string> protocol_type;  // v5+
  std::optional<std::string> protocol_name;  // v5+
  byte_view assignment;                      // must outlive encode()

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
