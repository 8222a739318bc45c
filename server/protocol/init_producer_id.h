#pragma once

// InitProducerId (key 22), v0-4; v2+ flexible.

#include <cstdint>
#include <optional>
#include <string>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct init_producer_id_request {
  std::optional<std::string> transactional_id;  // null: an idempotent producer
  std::int32_t transaction_timeout_ms = 0;
  std::int64_t producer_id = -1;     // v3+
  std::int16_t producer_epoch = -1;  // v3+

  static init_producer_id_request decode(reader& r, std::int16_t version);
};

struct init_producer_id_response {
  std::int32_t throttle_time_ms = 0;
  error_code error = error_code::none;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
