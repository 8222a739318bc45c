#pragma once

// TxnOffsetCommit (key 28), v0-3; v3+ flexible.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct txn_offset_commit_request {
  struct partition {
    std::int32_t partition_index = 0;
    std::int64_t committed_offset = -1;
    std::int32_t committed_leader_epoch = -1;  // v2+
    std::optional<std::string> committed_metadata;
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::string transactional_id;
  std::string group_id;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t generation_id = -1;               // v3+
  std::string member_id;                         // v3+
  std::optional<std::string> group_instance_id;  // v3+
  std::vector<topic> topics;

  static txn_offset_commit_request decode(reader& r, std::int16_t version);
};

struct txn_offset_commit_response {
  struct partition {
    std::int32_t partition_index = 0;
    error_code error = error_code::none;
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::int32_t throttle_time_ms = 0;
  std::vector<topic> topics;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
