#include "server/protocol/offset_commit.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

offset_commit_request offset_commit_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::offset_commit, version);
  const bool flex = is_flexible(api_key::offset_commit, version);
  offset_commit_request req;
  req.group_id = r.read_string(flex);
  if (version >= 1) req.generation_id = r.read_int32();                    // v1+: generation_id
  if (version >= 1) req.member_id = r.read_string(flex);                   // v1+: member_id
  if (version >= 7) req.group_instance_id = r.read_nullable_string(flex);  // v7+: group_instance_id
  if (version >= 2 && version <= 4) {
    req.retention_time_ms = r.read_int64();  // v2-4: retention_time_ms
  }
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
      p.committed_offset = r.read_int64();
      if (version >= 6) p.committed_leader_epoch = r.read_int32();  // v6+: committed_leader_epoch
      if (version == 1) p.commit_timestamp = r.read_int64();        // v1: commit_timestamp
      p.committed_metadata = r.read_nullable_string(flex);
      if (flex) r.skip_tagged_fields();
      t.partitions.push_back(std::move(p));
    }
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void offset_commit_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::offset_commit, version);
  if (version >= 3) w.write_int32(throttle_time_ms);  // v3+: throttle_time_ms
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
