#include "server/protocol/create_partitions.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

create_partitions_request create_partitions_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::create_partitions, version);
  const bool flex = is_flexible(api_key::create_partitions, version);
  create_partitions_request req;
  const std::size_t topics = r.read_array_length(flex);
  req.topics.reserve(topics);
  for (std::size_t i = 0; i < topics; ++i) {
    topic t;
    t.name = r.read_string(flex);
    t.count = r.read_int32();
    if (auto n = r.read_nullable_array_length(flex)) {
      std::vector<std::vector<std::int32_t>> assignments;
      assignments.reserve(*n);
      for (std::size_t k = 0; k < *n; ++k) {
        std::vector<std::int32_t> brokers;
        const std::size_t b = r.read_array_length(flex);
        brokers.reserve(b);
        for (std::size_t j = 0; j < b; ++j) brokers.push_back(r.read_int32());
        if (flex) r.skip_tagged_fields();
        assignments.push_back(std::move(brokers));
      }
      t.assignments = std::move(assignments);
    }
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  req.timeout_ms = r.read_int32();
  req.validate_only = r.read_bool();
  if (flex) r.skip_tagged_fields();
  return req;
}

void create_partitions_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::create_partitions, version);
  w.write_int32(throttle_time_ms);
  w.write_array_length(results.size(), flex);
  for (const auto& res : results) {
    w.write_string(res.name, flex);
    w.write_int16(static_cast<std::int16_t>(res.error));
    w.write_nullable_string(res.error_message, flex);
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
