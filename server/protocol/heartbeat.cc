#include "server/protocol/heartbeat.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

heartbeat_request heartbeat_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::heartbeat, version);
  const bool flex = is_flexible(api_key::heartbeat, version);
  heartbeat_request req;
  req.group_id = r.read_string(flex);
  req.generation_id = r.read_int32();
  req.member_id = r.read_string(flex);
  if (version >= 3) req.group_instance_id = r.read_nullable_string(flex);  // v3+: group_instance_id
  if (flex) r.skip_tagged_fields();
  return req;
}

void heartbeat_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::heartbeat, version);
  if (version >= 1) w.write_int32(throttle_time_ms);  // v1+: throttle_time_ms
  w.write_int16(static_cast<std::int16_t>(error));
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
