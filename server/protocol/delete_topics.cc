#include "server/protocol/delete_topics.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

delete_topics_request delete_topics_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::delete_topics, version);
  const bool flex = is_flexible(api_key::delete_topics, version);
  delete_topics_request req;
  std::size_t n = r.read_array_length(flex);
  req.topics.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    topic t;
    if (version >= 6) {
      t.name = r.read_nullable_string(flex);  // v6+: topics[name nullable, topic_id]
      t.topic_id = r.read_uuid();
      if (flex) r.skip_tagged_fields();
    } else {
      t.name = r.read_string(flex);  // v0-5: topic_names
    }
    req.topics.push_back(std::move(t));
  }
  req.timeout_ms = r.read_int32();
  if (flex) r.skip_tagged_fields();
  return req;
}

void delete_topics_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::delete_topics, version);
  if (version >= 1) w.write_int32(throttle_time_ms);  // v1+: throttle_time_ms
  w.write_array_length(responses.size(), flex);
  for (const auto& res : responses) {
    if (version >= 6) {
      w.write_nullable_string(res.name, flex);  // v6+: name nullable
    } else {
      w.write_string(res.name.value_or(""), flex);
    }
    if (version >= 6) w.write_uuid(res.topic_id);  // v6+: topic_id
    w.write_int16(static_cast<std::int16_t>(res.error));
    if (version >= 5) w.write_nullable_string(res.error_message, flex);  // v5+: error_message
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
