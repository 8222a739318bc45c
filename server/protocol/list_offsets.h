#pragma once

// ListOffsets (key 2), v0-7; v6+ flexible.

#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

// Special timestamps a client asks with instead of a real time.
inline constexpr std::int64_t list_offsets_latest = -1;
inline constexpr std::int64_t list_offsets_earliest = -2;

struct list_offsets_request {
  struct partition {
    std::int32_t partition_index = 0;
    std::int32_t current_leader_epoch = -1;  // v4+
    std::int64_t timestamp = 0;
    std::int32_t max_num_offsets = 1;  // v0 only
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::int32_t replica_id = -1;
  std::int8_t isolation_level = 0;  // v2+
  std::vector<topic> topics;

  static list_offsets_request decode(reader& r, std::int16_t version);
};

struct list_offsets_response {
  struct partition {
    std::int32_t partition_index = 0;
    error_code error = error_code::none;
    // v0 only; the handler fills it (usually with the one offset) when answering v0.
    std::vector<std::int64_t> old_style_offsets;
    std::int64_t timestamp = -1;     // v1+
    std::int64_t offset = -1;        // v1+
    std::int32_t leader_epoch = -1;  // v4+
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::int32_t throttle_time_ms = 0;  // v2+
  std::vector<topic> topics;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
