#include "server/protocol/delete_groups.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

delete_groups_request delete_groups_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::delete_groups, version);
  const bool flex = is_flexible(api_key::delete_groups, version);
  delete_groups_request req;
  std::size_t n = r.read_array_length(flex);
  req.groups_names.reserve(n);
  for (std::size_t i = 0; i < n; ++i) req.groups_names.push_back(r.read_string(flex));
  if (flex) r.skip_tagged_fields();
  return req;
}

void delete_groups_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::delete_groups, version);
  w.write_int32(throttle_time_ms);
  w.write_array_length(results.size(), flex);
  for (const auto& res : results) {
    w.write_string(res.group_id, flex);
    w.write_int16(static_cast<std::int16_t>(res.error));
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
