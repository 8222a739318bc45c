#pragma once

// FindCoordinator (key 10), v0-4; v3+ flexible. v4 batches keys; both shapes are presented as a
// list so the handler answers every version the same way.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

inline constexpr std::int8_t coordinator_type_group = 0;
inline constexpr std::int8_t coordinator_type_transaction = 1;

struct find_coordinator_request {
  std::int8_t key_type = coordinator_type_group;  // v1+
  // v0-3: exactly one element (the key field); v4+: coordinator_keys.
  std::vector<std::string> keys;

  static find_coordinator_request decode(reader& r, std::int16_t version);
};

struct find_coordinator_response {
  struct coordinator {
    std::string key;  // v4+ only on the wire
    std::int32_t node_id = -1;
    std::string host;
    std::int32_t port = -1;
    error_code error = error_code::none;
    std::optional<std::string> error_message;  // v1+
  };

  std::int32_t throttle_time_ms = 0;  // v1+
  // v0-3 send the single coordinator flat at top level.
  // REQUIRES: exactly one element when encoding v0-3 (std::invalid_argument otherwise).
  std::vector<coordinator> coordinators;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
