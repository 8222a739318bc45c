#include "server/protocol/describe_producers.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

// Flexible from v0; the flag is still computed from the table like everywhere else.
describe_producers_request describe_producers_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::describe_producers, version);
  const bool flex = is_flexible(api_key::describe_producers, version);
  describe_producers_request req;
  std::size_t topic_count = r.read_array_length(flex);
  req.topics.reserve(topic_count);
  for (std::size_t i = 0; i < topic_count; ++i) {
    topic t;
    t.name = r.read_string(flex);
    // []int32: plain values, no tagged section per element.
    std::size_t partition_count = r.read_array_length(flex);
    t.partition_indexes.reserve(partition_count);
    for (std::size_t j = 0; j < partition_count; ++j) t.partition_indexes.push_back(r.read_int32());
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void describe_producers_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::describe_producers, version);
  w.write_int32(throttle_time_ms);
  w.write_array_length(topics.size(), flex);
  for (const auto& t : topics) {
    w.write_string(t.name, flex);
    w.write_array_length(t.partitions.size(), flex);
    for (const auto& p : t.partitions) {
      w.write_int32(p.partition_index);
      w.write_int16(static_cast<std::int16_t>(p.error));
      w.write_nullable_string(p.error_message, flex);
      w.write_array_length(p.active_producers.size(), flex);
      for (const auto& s : p.active_producers) {
        w.write_int64(s.producer_id);
        w.write_int32(s.producer_epoch);  // int32 on the wire, unlike everywhere else
        w.write_int32(s.last_sequence);
        w.write_int64(s.last_timestamp);
        w.write_int32(s.coordinator_epoch);
        w.write_int64(s.current_txn_start_offset);
        if (flex) w.write_empty_tagged_fields();
      }
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
