#include "server/protocol/header.h"

namespace server::protocol {

request_header request_header::decode(reader& r) {
  request_header h;
  h.api_key = r.read_int16();
  h.api_version = r.read_int16();
  h.correlation_id = r.read_int32();
  h.client_id = r.read_nullable_string();
  if (is_flexible(h.api_key, h.api_version)) r.skip_tagged_fields();
  return h;
}

int response_header_version(std::int16_t key, std::int16_t version) {
  if (key == static_cast<std::int16_t>(api_key::api_versions)) return 0;
  return is_flexible(key, version) ? 1 : 0;
}

void encode_response_header(writer& w, std::int32_t correlation_id, std::int16_t key, std::int16_t version) {
  w.write_int32(correlation_id);
  if (response_header_version(key, version) == 1) w.write_empty_tagged_fields();
}

void require_supported(api_key key, std::int16_t version) {
  if (is_supported(static_cast<std::int16_t>(key), version)) return;
  const api_info& a = api(key);
  throw protocol_error(std::string(a.name) + " v" + std::to_string(version) + " is not supported (supported v" +
                       std::to_string(a.min_version) + "-" + std::to_string(a.max_version) + ")");
}

}  // namespace server::protocol
