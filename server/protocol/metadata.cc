#include "server/protocol/metadata.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

namespace {

void write_int32_array(writer& w, const std::vector<std::int32_t>& v, bool flex) {
  w.write_array_length(v.size(), flex);
  for (auto x : v) w.write_int32(x);
}

}  // namespace

metadata_request metadata_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::metadata, version);
  const bool flex = is_flexible(api_key::metadata, version);
  metadata_request req;
  // Null is only legal from v1 on; at v0 a -1 count is malformed.
  std::optional<std::size_t> n = version >= 1 ? r.read_nullable_array_length(flex) : r.read_array_length(flex);
  if (n) {
    std::vector<topic> topics;
    topics.reserve(*n);
    for (std::size_t i = 0; i < *n; ++i) {
      topic t;
      if (version >= 10) t.topic_id = r.read_uuid();  // v10+: topic_id
      if (version >= 10) {
        t.name = r.read_nullable_string(flex);  // v10+: name nullable
      } else {
        t.name = r.read_string(flex);
      }
      if (flex) r.skip_tagged_fields();
      topics.push_back(std::move(t));
    }
    // v0: an empty array asks for all topics.
    if (!(version == 0 && topics.empty())) req.topics = std::move(topics);
  }
  // v4+: allow_auto_topic_creation
  if (version >= 4) req.allow_auto_topic_creation = r.read_bool();
  // v8-10: include_cluster_authorized_operations
  if (version >= 8 && version <= 10) req.include_cluster_authorized_operations = r.read_bool();
  // v8+: include_topic_authorized_operations
  if (version >= 8) req.include_topic_authorized_operations = r.read_bool();
  if (flex) r.skip_tagged_fields();
  return req;
}

void metadata_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::metadata, version);
  if (version >= 3) w.write_int32(throttle_time_ms);  // v3+: throttle_time_ms
  w.write_array_length(brokers.size(), flex);
  for (const auto& b : brokers) {
    w.write_int32(b.node_id);
    w.write_string(b.host, flex);
    w.write_int32(b.port);
    if (version >= 1) w.write_nullable_string(b.rack, flex);  // v1+: rack
    if (flex) w.write_empty_tagged_fields();
  }
  if (version >= 2) w.write_nullable_string(cluster_id, flex);  // v2+: cluster_id
  if (version >= 1) w.write_int32(controller_id);               // v1+: controller_id
  w.write_array_length(topics.size(), flex);
  for (const auto& t : topics) {
    w.write_int16(static_cast<std::int16_t>(t.error));
    if (version >= 12) {
      w.write_nullable_string(t.name, flex);  // v12+: name nullable
    } else {
      w.write_string(t.name.value_or(""), flex);
    }
    if (version >= 10) w.write_uuid(t.topic_id);    // v10+: topic_id
    if (version >= 1) w.write_bool(t.is_internal);  // v1+: is_internal
    w.write_array_length(t.partitions.size(), flex);
    for (const auto& p : t.partitions) {
      w.write_int16(static_cast<std::int16_t>(p.error));
      w.write_int32(p.partition_index);
      w.write_int32(p.leader_id);
      if (version >= 7) w.write_int32(p.leader_epoch);  // v7+: leader_epoch
      write_int32_array(w, p.replica_nodes, flex);
      write_int32_array(w, p.isr_nodes, flex);
      if (version >= 5) write_int32_array(w, p.offline_replicas, flex);  // v5+: offline_replicas
      if (flex) w.write_empty_tagged_fields();
    }
    // v8+: topic_authorized_operations
    if (version >= 8) w.write_int32(t.topic_authorized_operations);
    if (flex) w.write_empty_tagged_fields();
  }
  if (version >= 8 && version <= 10) {
    w.write_int32(cluster_authorized_operations);  // v8-10: cluster_authorized_operations
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
