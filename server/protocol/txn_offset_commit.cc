#include "server/protocol/txn_offset_commit.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

txn_offset_commit_request txn_offset_commit_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::txn_offset_commit, version);
  const bool flex = is_flexible(api_key::txn_offset_commit, version);
  txn_offset_commit_request req;
  req.transactional_id = r.read_string(flex);
  req.group_id = r.read_string(flex);
  req.producer_id = r.read_int64();
  req.producer_epoch = r.read_int16();
  if (version >= 3) req.generation_id = r.read_int32();                    // v3+: generation_id
  if (version >= 3) req.member_id = r.read_string(flex);                   // v3+: member_id
  if (version >= 3) req.group_instance_id = r.read_nullable_string(flex);  // v3+: group_instance_id
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
      if (version >= 2) p.committed_leader_epoch = r.read_int32();  // v2+: committed_leader_epoch
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

void txn_offset_commit_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::txn_offset_commit, version);
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
