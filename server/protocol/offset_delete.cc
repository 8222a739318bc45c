#include "server/protocol/offset_delete.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

// Never flexible, but the flag is computed like everywhere else so a future flexible version
// only needs its table entry changed.
offset_delete_request offset_delete_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::offset_delete, version);
  const bool flex = is_flexible(api_key::offset_delete, version);
  offset_delete_request req;
  req.group_id = r.read_string(flex);
  std::size_t topic_count = r.read_array_length(flex);
  req.topics.reserve(topic_count);
  for (std::size_t i = 0; i < topic_count; ++i) {
    topic t;
    t.name = r.read_string(flex);
    std::size_t partition_count = r.read_array_length(flex);
    t.partitions.reserve(partition_count);
    for (std::size_t j = 0; j < partition_count; ++j) {
      t.partitions.push_back(r.read_int32());
      if (flex) r.skip_tagged_fields();
    }
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void offset_delete_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::offset_delete, version);
  w.write_int16(static_cast<std::int16_t>(error));
  w.write_int32(throttle_time_ms);
  w.write_array_length(topics.size(), flex);
  for (const auto& t : topics) {
    w.write_string(t.name, flex);
    w.write_array_length(t.partitions.size(), flex);
    for (const auto& p : t.partitions) {
      w.write_int32(p.partition_index);
      w.write_int16(static_cast<std::int16_t>(p.error));
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
