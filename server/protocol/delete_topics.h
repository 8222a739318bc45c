#pragma once

// DeleteTopics (key 20), v0-6; v4+ flexible.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct delete_topics_request {
  struct topic {
    std::optional<std::string> name;  // v6 may name a topic by id alone
    uuid topic_id = zero_uuid;        // v6+
  };

  // v0-5 send topic_names (strings); they decode here with a zero topic_id, so the handler
  // sees one shape for every version.
  std::vector<topic> topics;
  std::int32_t timeout_ms = 0;

  static delete_topics_request decode(reader& r, std::int16_t version);
};

struct delete_topics_response {
  struct result {
    std::optional<std::string> name;  // nullable v6+; earlier versions send ""
    uuid topic_id = zero_uuid;        // v6+
    error_code error = error_code::none;
    std::optional<std::string> error_message;  // v5+
  };

  std::int32_t throttle_time_ms = 0;  // v1+
  std::vector<result> responses;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
