#pragma once

// DeleteGroups (key 42), v0-2; v2+ flexible.

#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct delete_groups_request {
  std::vector<std::string> groups_names;

  static delete_groups_request decode(reader& r, std::int16_t version);
};

struct delete_groups_response {
  struct result {
    std::string group_id;
    error_code error = error_code::none;
  };

  std::int32_t throttle_time_ms = 0;
  std::vector<result> results;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
