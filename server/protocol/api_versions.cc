#include "server/protocol/api_versions.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

api_versions_request api_versions_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::api_versions, version);
  const bool flex = is_flexible(api_key::api_versions, version);
  api_versions_request req;
  if (version >= 3) {
    req.client_software_name = r.read_compact_string();     // v3+: client_software_name
    req.client_software_version = r.read_compact_string();  // v3+: client_software_version
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void api_versions_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::api_versions, version);
  w.write_int16(static_cast<std::int16_t>(error));
  w.write_array_length(api_keys.size(), flex);
  for (const auto& k : api_keys) {
    w.write_int16(k.api_key);
    w.write_int16(k.min_version);
    w.write_int16(k.max_version);
    if (flex) w.write_empty_tagged_fields();
  }
  if (version >= 1) w.write_int32(throttle_time_ms);  // v1+: throttle_time_ms
  if (flex) w.write_empty_tagged_fields();
}

std::vector<api_versions_response::api_version> api_versions_response::from_supported_apis() {
  std::vector<api_version> out;
  out.reserve(supported_apis.size());
  for (const auto& a : supported_apis) {
    out.push_back({static_cast<std::int16_t>(a.key), a.min_version, a.max_version});
  }
  return out;
}

}  // namespace server::protocol
