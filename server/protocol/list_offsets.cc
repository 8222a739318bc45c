#include "server/protocol/list_offsets.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

list_offsets_request list_offsets_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::list_offsets, version);
  const bool flex = is_flexible(api_key::list_offsets, version);
  list_offsets_request req;
  req.replica_id = r.read_int32();
  if (version >= 2) req.isolation_level = r.read_int8();  // v2+: isolation_level
  std::size_t topic_count = r.read_array_length(flex);
  req.topics.reserve(topic_count);
  for (std::size_t i = 0; i < topic_count; ++i) {
    topic t;
    t.name = r.read_string(flex);
    std::size_t partition_count = r.read_array_length(flex);
    t.partitions.reserve(partition_count);
    for (std::size_t j = 0; j < partition_count; ++j) {
      partition p;
      p.partition_index = r.read_int32();
      if (version >= 4) p.current_leader_epoch = r.read_int32();  // v4+: current_leader_epoch
      p.timestamp = r.read_int64();
      if (version == 0) p.max_num_offsets = r.read_int32();  // v0: max_num_offsets
      if (flex) r.skip_tagged_fields();
      t.partitions.push_back(p);
    }
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void list_offsets_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::list_offsets, version);
  if (version >= 2) w.write_int32(throttle_time_ms);  // v2+: throttle_time_ms
  w.write_array_length(topics.size(), flex);
  for (const auto& t : topics) {
    w.write_string(t.name, flex);
    w.write_array_length(t.partitions.size(), flex);
    for (const auto& p : t.partitions) {
      w.write_int32(p.partition_index);
      w.write_int16(static_cast<std::int16_t>(p.error));
      if (version == 0) {
        w.write_array_length(p.old_style_offsets.size());  // v0: old_style_offsets
        for (auto o : p.old_style_offsets) w.write_int64(o);
      }
      if (version >= 1) w.write_int64(p.timestamp);     // v1+: timestamp
      if (version >= 1) w.write_int64(p.offset);        // v1+: offset
      if (version >= 4) w.write_int32(p.leader_epoch);  // v4+: leader_epoch
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
