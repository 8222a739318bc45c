#pragma once

// DescribeConfigs (key 32), v0-4; v4 flexible.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

// Resource types and config sources the broker meets; values fixed by the protocol.
inline constexpr std::int8_t config_resource_topic = 2;
inline constexpr std::int8_t config_resource_broker = 4;
inline constexpr std::int8_t config_source_dynamic_topic = 1;
inline constexpr std::int8_t config_source_static_broker = 4;
inline constexpr std::int8_t config_source_default = 5;

struct describe_configs_request {
  struct resource {
    std::int8_t resource_type = 0;
    std::string resource_name;
    std::optional<std::vector<std::string>> configuration_keys;  // null = all keys
  };

  std::vector<resource> resources;
  bool include_synonyms = false;       // v1+
  bool include_documentation = false;  // v3+

  static describe_configs_request decode(reader& r, std::int16_t version);
};

struct describe_configs_response {
  struct synonym {
    std::string name;
    std::optional<std::string> value;
    std::int8_t source = 0;
  };
  struct config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    bool is_default = false;         // v0 only
    std::int8_t config_source = -1;  // v1+
    bool is_sensitive = false;
    std::vector<synonym> synonyms;             // v1+
    std::int8_t config_type = 0;               // v3+
    std::optional<std::string> documentation;  // v3+
  };
  struct result {
    error_code error = error_code::none;
    std::optional<std::string> error_message;
    std::int8_t resource_type = 0;
    std::string resource_name;
    std::vector<config> configs;
  };

  std::int32_t throttle_time_ms = 0;
  std::vector<result> results;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
