#pragma once

// OffsetCommit (key 8), v0-8; v8+ flexible.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct offset_commit_request {
  struct partition {
    std::int32_t partition_index = 0;
    std::int64_t committed_offset = -1;
    std::int32_t committed_leader_epoch = -1;  // v6+
    std::int64_t commit_timestamp = -1;        // v1 only
    std::optional<std::string> committed_metadata;
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::string group_id;
  std::int32_t generation_id = -1;               // v1+; -1 when absent
  std::string member_id;                         // v1+; "" when absent
  std::optional<std::string> group_instance_id;  // v7+
  std::int64_t retention_time_ms = -1;           // v2-4
  std::vector<topic> topics;

  static offset_commit_request decode(reader& r, std::int16_t version);
};

struct offset_commit_response {
  struct partition {
    std::int32_t partition_index = 0;
    error_code error = error_code::none;
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::int32_t throttle_time_ms = 0;  // v3+
  std::vector<topic> topics;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
