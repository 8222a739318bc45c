#pragma once

// OffsetFetch (key 9), v0-8; v6+ flexible. v0-7 ask for one group with top-level fields; v8+
// batch groups. Both shapes decode to `groups` and encode from it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct offset_fetch_request {
  struct topic {
    std::string name;
    std::vector<std::int32_t> partition_indexes;
  };
  struct group {
    std::string group_id;
    std::optional<std::vector<topic>> topics;  // null (v2+): every committed offset of the group
  };

  std::vector<group> groups;    // v0-7: exactly one
  bool require_stable = false;  // v7+

  static offset_fetch_request decode(reader& r, std::int16_t version);
};

struct offset_fetch_response {
  struct partition {
    std::int32_t partition_index = 0;
    std::int64_t committed_offset = -1;
    std::int32_t committed_leader_epoch = -1;  // v5+
    std::optional<std::string> metadata;
    error_code error = error_code::none;
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };
  struct group {
    std::string group_id;  // v8+ only on the wire
    std::vector<topic> topics;
    error_code error = error_code::none;  // v2+ on the wire; v0-1 carry errors per partition only
  };

  std::int32_t throttle_time_ms = 0;  // v3+
  // v0-7 send the single group flat at top level.
  // REQUIRES: exactly one element when encoding v0-7 (std::invalid_argument otherwise).
  std::vector<group> groups;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
