#pragma once

// OffsetDelete (key 47), v0 only; never flexible.

#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct offset_delete_request {
  struct topic {
    std::string name;
    std::vector<std::int32_t> partitions;
  };

  std::string group_id;
  std::vector<topic> topics;

  static offset_delete_request decode(reader& r, std::int16_t version);
};

struct offset_delete_response {
  struct partition {
    std::int32_t partition_index = 0;
    error_code error = error_code::none;
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  error_code error = error_code::none;
  std::int32_t throttle_time_ms = 0;
  std::vector<topic> topics;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
