#include "server/protocol/join_group.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

join_group_request join_group_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::join_group, version);
  const bool flex = is_flexible(api_key::join_group, version);
  join_group_request req;
  req.group_id = r.read_string(flex);
  req.session_timeout_ms = r.read_int32();
  if (version >= 1) req.rebalance_timeout_ms = r.read_int32();  // v1+: rebalance_timeout_ms
  req.member_id = r.read_string(flex);
  if (version >= 5) req.group_instance_id = r.read_nullable_string(flex);  // v5+: group_instance_id
  req.protocol_type = r.read_string(flex);
  std::size_t n = r.read_array_length(flex);
  req.protocols.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    protocol p;
    p.name = r.read_string(flex);
    p.metadata = r.read_bytes(flex);
    if (flex) r.skip_tagged_fields();
    req.protocols.push_back(std::move(p));
  }
  if (version >= 8) req.reason = r.read_nullable_string(flex);  // v8+: reason
  if (flex) r.skip_tagged_fields();
  return req;
}

void join_group_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::join_group, version);
  if (version >= 2) w.write_int32(throttle_time_ms);  // v2+: throttle_time_ms
  w.write_int16(static_cast<std::int16_t>(error));
  w.write_int32(generation_id);
  if (version >= 7) w.write_nullable_string(protocol_type, flex);  // v7+: protocol_type
  if (version >= 7) {
    w.write_nullable_string(protocol_name, flex);  // v7+: protocol_name nullable
  } else {
    w.write_string(protocol_name.value_or(""), flex);
  }
  w.write_string(leader, flex);
  if (version >= 9) w.write_bool(skip_assignment);  // v9+: skip_assignment
  w.write_string(member_id, flex);
  w.write_array_length(members.size(), flex);
  for (const auto& m : members) {
    w.write_string(m.member_id, flex);
    if (version >= 5) w.write_nullable_string(m.group_instance_id, flex);  // v5+: group_instance_id
    w.write_bytes(m.metadata, flex);
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
