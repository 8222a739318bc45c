#pragma once

// DescribeProducers (key 61), v0; flexible.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct describe_producers_request {
  struct topic {
    std::string name;
    std::vector<std::int32_t> partition_indexes;
  };

  std::vector<topic> topics;

  static describe_producers_request decode(reader& r, std::int16_t version);
};

struct describe_producers_response {
  struct producer {
    std::int64_t producer_id = -1;
    std::int32_t producer_epoch = -1;
    std::int32_t last_sequence = -1;
    std::int64_t last_timestamp = -1;
    std::int32_t coordinator_epoch = -1;
    std::int64_t current_txn_start_offset = -1;
  };
  struct partition {
    std::int32_t partition_index = 0;
    error_code error = error_code::none;
    std::optional<std::string> error_message;
    std::vector<producer> active_producers;
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
