#pragma once

// CreateTopics (key 19), v0-7; v5+ flexible.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct create_topics_request {
  struct assignment {
    std::int32_t partition_index = 0;
    std::vector<std::int32_t> broker_ids;
  };
  struct config {
    std::string name;
    std::optional<std::string> value;
  };
  struct topic {
    std::string name;
    std::int32_t num_partitions = -1;      // -1: broker default (v4+ clients)
    std::int16_t replication_factor = -1;  // -1: broker default (v4+ clients)
    std::vector<assignment> assignments;
    std::vector<config> configs;
  };

  std::vector<topic> topics;
  std::int32_t timeout_ms = 0;
  bool validate_only = false;  // v1+

  static create_topics_request decode(reader& r, std::int16_t version);
};

struct create_topics_response {
  struct config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    std::int8_t config_source = -1;
    bool is_sensitive = false;
  };
  struct topic {
    std::string name;
    uuid topic_id = zero_uuid;  // v7+
    error_code error = error_code::none;
    std::optional<std::string> error_message;  // v1+
    // v5+ tag 0 topic_config_error_code is never sent.
    std::int32_t num_partitions = -1;            // v5+
    std::int16_t replication_factor = -1;        // v5+
    std::optional<std::vector<config>> configs;  // v5+, null when not described
  };

  std::int32_t throttle_time_ms = 0;  // v2+
  std::vector<topic> topics;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
