#pragma once

// AddOffsetsToTxn (key 25), v0-3; v3+ flexible.

#include <cstdint>
#include <string>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct add_offsets_to_txn_request {
  std::string transactional_id;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::string group_id;

  static add_offsets_to_txn_request decode(reader& r, std::int16_t version);
};

struct add_offsets_to_txn_response {
  std::int32_t throttle_time_ms = 0;
  error_code error = error_code::none;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
