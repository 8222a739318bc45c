#pragma once

// Fetch (key 1), v4-17; v12+ flexible. v13+ name topics by id instead of by name (KIP-516);
// v15+ move replica_id into a tagged field the broker does not read; v15-17 add nothing else
// outside tagged fields.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct fetch_request {
  struct partition {
    std::int32_t partition = 0;
    std::int32_t current_leader_epoch = -1;  // v9+
    std::int64_t fetch_offset = 0;
    std::int32_t last_fetched_epoch = -1;  // v12+
    std::int64_t log_start_offset = -1;    // v5+
    std::int32_t partition_max_bytes = 0;
  };
  struct topic {
    std::string name;  // v0-12
    uuid topic_id{};   // v13+
    std::vector<partition> partitions;
  };
  struct forgotten_topic {
    std::string name;  // v7-12
    uuid topic_id{};   // v13+
    std::vector<std::int32_t> partitions;
  };

  std::int32_t replica_id = -1;  // v0-14
  std::int32_t max_wait_ms = 0;
  std::int32_t min_bytes = 0;
  std::int32_t max_bytes = std::numeric_limits<std::int32_t>::max();  // v3+
  std::int8_t isolation_level = 0;                                    // v4+
  std::int32_t session_id = 0;                                        // v7+
  std::int32_t session_epoch = -1;                                    // v7+
  std::vector<topic> topics;
  std::vector<forgotten_topic> forgotten_topics_data;  // v7+
  std::string rack_id;                                 // v11+

  static fetch_request decode(reader& r, std::int16_t version);
};

struct fetch_response {
  struct aborted_transaction {
    std::int64_t producer_id = 0;
    std::int64_t first_offset = 0;
  };
  struct partition {
    std::int32_t partition_index = 0;
    error_code error = error_code::none;
    std::int64_t high_watermark = -1;
    std::int64_t last_stable_offset = -1;  // v4+
    std::int64_t log_start_offset = -1;    // v5+
    // v4+; null means "none", which is what a read_uncommitted consumer expects.
    std::optional<std::vector<aborted_transaction>> aborted_transactions;
    std::int32_t preferred_read_replica = -1;  // v11+
    // Stored batches sent back to back as one records field, so the server can hand over
    // several batches without joining them first. Views must stay valid until encode returns.
    std::vector<byte_view> records;
  };
  struct topic {
    std::string name;  // "topic" on the wire, v0-12
    uuid topic_id{};   // v13+
    std::vector<partition> partitions;
  };

  std::int32_t throttle_time_ms = 0;    // v1+
  error_code error = error_code::none;  // v7+
  std::int32_t session_id = 0;          // v7+
  std::vector<topic> responses;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
