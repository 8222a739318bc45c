#pragma once

// CreatePartitions (key 37), v0-3; v2+ flexible.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct create_partitions_request {
  struct topic {
    std::string name;
    std::int32_t count = 0;
    // Replica assignments of the new partitions (broker ids per partition); null: the broker's.
    std::optional<std::vector<std::vector<std::int32_t>>> assignments;
  };

  std::vector<topic> topics;
  std::int32_t timeout_ms = 0;
  bool validate_only = false;

  static create_partitions_request decode(reader& r, std::int16_t version);
};

struct create_partitions_response {
  struct result {
    std::string name;
    error_code error = error_code::none;
    std::optional<std::string> error_message;
  };

  std::int32_t throttle_time_ms = 0;
  std::vector<result> results;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
