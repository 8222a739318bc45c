#pragma once

// AlterConfigs (key 33), v0-2; v2 flexible. IncrementalAlterConfigs (key 44), v0-1; v1
// flexible. Both answer with the same shape.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

// IncrementalAlterConfigs operations; values fixed by the protocol.
inline constexpr std::int8_t config_op_set = 0;
inline constexpr std::int8_t config_op_delete = 1;
inline constexpr std::int8_t config_op_append = 2;
inline constexpr std::int8_t config_op_subtract = 3;

struct alter_configs_request {
  struct entry {
    std::string name;
    std::optional<std::string> value;
    std::int8_t operation = config_op_set;  // IncrementalAlterConfigs only; AlterConfigs sets
  };
  struct resource {
    std::int8_t resource_type = 0;
    std::string resource_name;
    std::vector<entry> configs;
  };

  std::vector<resource> resources;
  bool validate_only = false;

  // `incremental`: IncrementalAlterConfigs (each config carries its operation).
  static alter_configs_request decode(reader& r, std::int16_t version, bool incremental);
};

struct alter_configs_response {
  struct result {
    error_code error = error_code::none;
    std::optional<std::string> error_message;
    std::int8_t resource_type = 0;
    std::string resource_name;
  };

  std::int32_t throttle_time_ms = 0;
  std::vector<result> responses;

  bool incremental = false;  // IncrementalAlterConfigs: its flexible versions
  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
