#include "server/protocol/list_groups.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

list_groups_request list_groups_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::list_groups, version);
  const bool flex = is_flexible(api_key::list_groups, version);
  list_groups_request req;
  if (version >= 4) {
    std::size_t n = r.read_array_length(flex);  // v4+: states_filter
    req.states_filter.reserve(n);
    for (std::size_t i = 0; i < n; ++i) req.states_filter.push_back(r.read_string(flex));
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void list_groups_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::list_groups, version);
  if (version >= 1) w.write_int32(throttle_time_ms);  // v1+: throttle_time_ms
  w.write_int16(static_cast<std::int16_t>(error));
  w.write_array_length(groups.size(), flex);
  for (const auto& g : groups) {
    w.write_string(g.group_id, flex);
    w.write_string(g.protocol_type, flex);
    if (version >= 4) w.write_string(g.group_state, flex);  // v4+: group_state
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
