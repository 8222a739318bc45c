#include "server/protocol/alter_configs.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

alter_configs_request alter_configs_request::decode(reader& r, std::int16_t version, bool incremental) {
  const api_key key = incremental ? api_key::incremental_alter_configs : api_key::alter_configs;
  require_supported(key, version);
  const bool flex = is_flexible(key, version);
  alter_configs_request req;
  const std::size_t n = r.read_array_length(flex);
  req.resources.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    resource res;
    res.resource_type = r.read_int8();
    res.resource_name = r.read_string(flex);
    const std::size_t configs = r.read_array_length(flex);
    res.configs.reserve(configs);
    for (std::size_t k = 0; k < configs; ++k) {
      entry e;
      e.name = r.read_string(flex);
      if (incremental) e.operation = r.read_int8();
      e.value = r.read_nullable_string(flex);
      if (flex) r.skip_tagged_fields();
      res.configs.push_back(std::move(e));
    }
    if (flex) r.skip_tagged_fields();
    req.resources.push_back(std::move(res));
  }
  req.validate_only = r.read_bool();
  if (flex) r.skip_tagged_fields();
  return req;
}

void alter_configs_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(incremental ? api_key::incremental_alter_configs : api_key::alter_configs, version);
  w.write_int32(throttle_time_ms);
  w.write_array_length(responses.size(), flex);
  for (const auto& res : responses) {
    w.write_int16(static_cast<std::int16_t>(res.error));
    w.write_nullable_string(res.error_message, flex);
    w.write_int8(res.resource_type);
    w.write_string(res.resource_name, flex);
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
