#pragma once

// DeleteRecords (key 21), v0-2; v2 flexible.

#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct delete_records_request {
  struct partition {
    std::int32_t partition_index = 0;
    std::int64_t offset = 0;  // -1: the high watermark
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::vector<topic> topics;
  std::int32_t timeout_ms = 0;

  static delete_records_request decode(reader& r, std::int16_t version);
};

struct delete_records_response {
  struct partition {
    std::int32_t partition_index = 0;
    std::int64_t low_watermark = -1;
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
