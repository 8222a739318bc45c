#include "server/protocol/describe_groups.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

describe_groups_request describe_groups_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::describe_groups, version);
  const bool flex = is_flexible(api_key::describe_groups, version);
  describe_groups_request req;
  std::size_t n = r.read_array_length(flex);
  req.groups.reserve(n);
  for (std::size_t i = 0; i < n; ++i) req.groups.push_back(r.read_string(flex));
  if (version >= 3) req.include_authorized_operations = r.read_bool();  // v3+
  if (flex) r.skip_tagged_fields();
  return req;
}

void describe_groups_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::describe_groups, version);
  if (version >= 1) w.write_int32(throttle_time_ms);  // v1+: throttle_time_ms
  w.write_array_length(groups.size(), flex);
  for (const auto& g : groups) {
    w.write_int16(static_cast<std::int16_t>(g.error));
    w.write_string(g.group_id, flex);
    w.write_string(g.group_state, flex);
    w.write_string(g.protocol_type, flex);
    w.write_string(g.protocol_data, flex);
    w.write_array_length(g.members.size(), flex);
    for (const auto& m : g.members) {
      w.write_string(m.member_id, flex);
      if (version >= 4) {
        w.write_nullable_string(m.group_instance_id, flex);  // v4+: group_instance_id
      }
      w.write_string(m.client_id, flex);
      w.write_string(m.client_host, flex);
      w.write_bytes(m.member_metadata, flex);
      w.write_bytes(m.member_assignment, flex);
      if (flex) w.write_empty_tagged_fields();
    }
    if (version >= 3) w.write_int32(g.authorized_operations);  // v3+: authorized_operations
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
