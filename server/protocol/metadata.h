#pragma once

// Metadata (key 3), v0-12; v9+ flexible.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

// "Not requested / not computed" value of the authorized-operations bitfields.
inline constexpr std::int32_t authorized_operations_unknown = std::numeric_limits<std::int32_t>::min();

struct metadata_request {
  struct topic {
    uuid topic_id = zero_uuid;        // v10+: topic_id
    std::optional<std::string> name;  // nullable v10+ (a lookup by id alone)
  };

  // nullopt = all topics. v0 says "all" with an empty array, v1+ with a null array; both
  // decode to nullopt, so an engaged empty vector always means "no topics".
  std::optional<std::vector<topic>> topics;
  bool allow_auto_topic_creation = true;               // v4+
  bool include_cluster_authorized_operations = false;  // v8-10
  bool include_topic_authorized_operations = false;    // v8+

  static metadata_request decode(reader& r, std::int16_t version);
};

struct metadata_response {
  struct broker {
    std::int32_t node_id = 0;
    std::string host;
    std::int32_t port = 0;
    std::optional<std::string> rack;  // v1+
  };
  struct partition {
    error_code error = error_code::none;
    std::int32_t partition_index = 0;
    std::int32_t leader_id = -1;
    std::int32_t leader_epoch = -1;  // v7+
    std::vector<std::int32_t> replica_nodes;
    std::vector<std::int32_t> isr_nodes;
    std::vector<std::int32_t> offline_replicas;  // v5+
  };
  struct topic {
    error_code error = error_code::none;
    // Null only on v12+ (a topic asked for by an unknown id); earlier versions send "".
    std::optional<std::string> name;
    uuid topic_id = zero_uuid;  // v10+
    bool is_internal = false;   // v1+
    std::vector<partition> partitions;
    std::int32_t topic_authorized_operations = authorized_operations_unknown;  // v8+
  };

  std::int32_t throttle_time_ms = 0;  // v3+
  std::vector<broker> brokers;
  std::optional<std::string> cluster_id;  // v2+
  std::int32_t controller_id = -1;        // v1+
  std::vector<topic> topics;
  std::int32_t cluster_authorized_operations = authorized_operations_unknown;  // v8-10

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
