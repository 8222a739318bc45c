#include "server/protocol/create_topics.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

create_topics_request create_topics_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::create_topics, version);
  const bool flex = is_flexible(api_key::create_topics, version);
  create_topics_request req;
  std::size_t topic_count = r.read_array_length(flex);
  req.topics.reserve(topic_count);
  for (std::size_t i = 0; i < topic_count; ++i) {
    topic t;
    t.name = r.read_string(flex);
    t.num_partitions = r.read_int32();
    t.replication_factor = r.read_int16();
    std::size_t assignment_count = r.read_array_length(flex);
    t.assignments.reserve(assignment_count);
    for (std::size_t j = 0; j < assignment_count; ++j) {
      assignment a;
      a.partition_index = r.read_int32();
      std::size_t n = r.read_array_length(flex);
      a.broker_ids.reserve(n);
      for (std::size_t k = 0; k < n; ++k) a.broker_ids.push_back(r.read_int32());
      if (flex) r.skip_tagged_fields();
      t.assignments.push_back(std::move(a));
    }
    std::size_t config_count = r.read_array_length(flex);
    t.configs.reserve(config_count);
    for (std::size_t j = 0; j < config_count; ++j) {
      config c;
      c.name = r.read_string(flex);
      c.value = r.read_nullable_string(flex);
      if (flex) r.skip_tagged_fields();
      t.configs.push_back(std::move(c));
    }
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  req.timeout_ms = r.read_int32();
  if (version >= 1) req.validate_only = r.read_bool();  // v1+: validate_only
  if (flex) r.skip_tagged_fields();
  return req;
}

void create_topics_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::create_topics, version);
  if (version >= 2) w.write_int32(throttle_time_ms);  // v2+: throttle_time_ms
  w.write_array_length(topics.size(), flex);
  for (const auto& t : topics) {
    w.write_string(t.name, flex);
    if (version >= 7) w.write_uuid(t.topic_id);  // v7+: topic_id
    w.write_int16(static_cast<std::int16_t>(t.error));
    if (version >= 1) w.write_nullable_string(t.error_message, flex);  // v1+: error_message
    if (version >= 5) {
      w.write_int32(t.num_partitions);      // v5+: num_partitions
      w.write_int16(t.replication_factor);  // v5+: replication_factor
      std::optional<std::size_t> n;         // v5+: configs
      if (t.configs) n = t.configs->size();
      w.write_nullable_array_length(n, flex);
      if (t.configs) {
        for (const auto& c : *t.configs) {
          w.write_string(c.name, flex);
          w.write_nullable_string(c.value, flex);
          w.write_bool(c.read_only);
          w.write_int8(c.config_source);
          w.write_bool(c.is_sensitive);
          if (flex) w.write_empty_tagged_fields();
        }
      }
    }
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
