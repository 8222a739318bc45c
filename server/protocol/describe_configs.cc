#include "server/protocol/describe_configs.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

describe_configs_request describe_configs_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::describe_configs, version);
  const bool flex = is_flexible(api_key::describe_configs, version);
  describe_configs_request req;
  std::size_t n = r.read_array_length(flex);
  req.resources.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    resource res;
    res.resource_type = r.read_int8();
    res.resource_name = r.read_string(flex);
    if (auto keys = r.read_nullable_array_length(flex)) {
      std::vector<std::string> names;
      names.reserve(*keys);
      for (std::size_t k = 0; k < *keys; ++k) names.push_back(r.read_string(flex));
      res.configuration_keys = std::move(names);
    }
    if (flex) r.skip_tagged_fields();
    req.resources.push_back(std::move(res));
  }
  if (version >= 1) req.include_synonyms = r.read_bool();       // v1+: include_synonyms
  if (version >= 3) req.include_documentation = r.read_bool();  // v3+: include_documentation
  if (flex) r.skip_tagged_fields();
  return req;
}

void describe_configs_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::describe_configs, version);
  w.write_int32(throttle_time_ms);
  w.write_array_length(results.size(), flex);
  for (const auto& res : results) {
    w.write_int16(static_cast<std::int16_t>(res.error));
    w.write_nullable_string(res.error_message, flex);
    w.write_int8(res.resource_type);
    w.write_string(res.resource_name, flex);
    w.write_array_length(res.configs.size(), flex);
    for (const auto& c : res.configs) {
      w.write_string(c.name, flex);
      w.write_nullable_string(c.value, flex);
      w.write_bool(c.read_only);
      if (version == 0) w.write_bool(c.is_default);     // v0: is_default
      if (version >= 1) w.write_int8(c.config_source);  // v1+: config_source
      w.write_bool(c.is_sensitive);
      if (version >= 1) {
        w.write_array_length(c.synonyms.size(), flex);  // v1+: synonyms
        for (const auto& s : c.synonyms) {
          w.write_string(s.name, flex);
          w.write_nullable_string(s.value, flex);
          w.write_int8(s.source);
          if (flex) w.write_empty_tagged_fields();
        }
      }
      if (version >= 3) w.write_int8(c.config_type);                     // v3+: config_type
      if (version >= 3) w.write_nullable_string(c.documentation, flex);  // v3+: documentation
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
