#pragma once

// AddPartitionsToTxn (key 24), v0-3 (the client versions; v4+ are broker to broker); v3+
// flexible.

#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct add_partitions_to_txn_request {
  struct topic {
    std::string name;
    std::vector<std::int32_t> partitions;
  };

  std::string transactional_id;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::vector<topic> topics;

  static add_partitions_to_txn_request decode(reader& r, std::int16_t version);
};

struct add_partitions_to_txn_response {
  struct partition {
    std::int32_t partition_index = 0;
    error_code error = error_code::none;
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::int32_t throttle_time_ms = 0;
  std::vector<topic> results;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
