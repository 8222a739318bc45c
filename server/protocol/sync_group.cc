#include "server/protocol/sync_group.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

sync_group_request sync_group_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::sync_group, version);
  const bool flex = is_flexible(api_key::sync_group, version);
  sync_group_request req;
  req.group_id = r.read_string(flex);
  req.generation_id = r.read_int32();
  req.member_id = r.read_string(flex);
  if (version >= 3) req.group_instance_id = r.read_nullable_string(flex);  // v3+: group_instance_id
  if (version >= 5) req.protocol_type = r.read_nullable_string(flex);      // v5+: protocol_type
  if (version >= 5) req.protocol_name = r.read_nullable_string(flex);      // v5+: protocol_name
  std::size_t n = r.read_array_length(flex);
  req.assignments.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    assignment a;
    a.member_id = r.read_string(flex);
    a.assignment = r.read_bytes(flex);
    if (flex) r.skip_tagged_fields();
    req.assignments.push_back(std::move(a));
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void sync_group_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::sync_group, version);
  if (version >= 1) w.write_int32(throttle_time_ms);  // v1+: throttle_time_ms
  w.write_int16(static_cast<std::int16_t>(error));
  if (version >= 5) w.write_nullable_string(protocol_type, flex);  // v5+: protocol_type
  if (version >= 5) w.write_nullable_string(protocol_name, flex);  // v5+: protocol_name
  w.write_bytes(assignment, flex);
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
