#include "server/protocol/find_coordinator.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

find_coordinator_request find_coordinator_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::find_coordinator, version);
  const bool flex = is_flexible(api_key::find_coordinator, version);
  find_coordinator_request req;
  if (version <= 3) req.keys.push_back(r.read_string(flex));  // v0-3: key
  if (version >= 1) req.key_type = r.read_int8();             // v1+: key_type
  if (version >= 4) {
    std::size_t n = r.read_array_length(flex);  // v4+: coordinator_keys
    req.keys.reserve(n);
    for (std::size_t i = 0; i < n; ++i) req.keys.push_back(r.read_string(flex));
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void find_coordinator_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::find_coordinator, version);
  if (version >= 1) w.write_int32(throttle_time_ms);  // v1+: throttle_time_ms
  if (version <= 3) {
    if (coordinators.size() != 1) {
      throw std::invalid_argument("FindCoordinator v0-3 answers exactly one coordinator");
    }
    const coordinator& c = coordinators.front();
    w.write_int16(static_cast<std::int16_t>(c.error));
    if (version >= 1) w.write_nullable_string(c.error_message, flex);  // v1-3: error_message
    w.write_int32(c.node_id);
    w.write_string(c.host, flex);
    w.write_int32(c.port);
  } else {
    w.write_array_length(coordinators.size(), flex);  // v4+: coordinators
    for (const auto& c : coordinators) {
      w.write_string(c.key, flex);
      w.write_int32(c.node_id);
      w.write_string(c.host, flex);
      w.write_int32(c.port);
      w.write_int16(static_cast<std::int16_t>(c.error));
      w.write_nullable_string(c.error_message, flex);
      if (flex) w.write_empty_tagged_fields();
    }
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
