#include "server/protocol/leave_group.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

leave_group_request leave_group_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::leave_group, version);
  const bool flex = is_flexible(api_key::leave_group, version);
  leave_group_request req;
  req.group_id = r.read_string(flex);
  if (version <= 2) {
    member m;
    m.member_id = r.read_string(flex);  // v0-2: member_id
    req.members.push_back(std::move(m));
  } else {
    std::size_t n = r.read_array_length(flex);  // v3+: members
    req.members.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      member m;
      m.member_id = r.read_string(flex);
      m.group_instance_id = r.read_nullable_string(flex);
      if (version >= 5) m.reason = r.read_nullable_string(flex);  // v5+: reason
      if (flex) r.skip_tagged_fields();
      req.members.push_back(std::move(m));
    }
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void leave_group_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::leave_group, version);
  if (version >= 1) w.write_int32(throttle_time_ms);  // v1+: throttle_time_ms
  w.write_int16(static_cast<std::int16_t>(error));
  if (version >= 3) {
    w.write_array_length(members.size(), flex);  // v3+: members
    for (const auto& m : members) {
      w.write_string(m.member_id, flex);
      w.write_nullable_string(m.group_instance_id, flex);
      w.write_int16(static_cast<std::int16_t>(m.error));
      if (flex) w.write_empty_tagged_fields();
    }
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
