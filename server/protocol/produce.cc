#include "server/protocol/produce.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

produce_request produce_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::produce, version);
  const bool flex = is_flexible(api_key::produce, version);
  produce_request req;
  req.transactional_id = r.read_nullable_string(flex);  // v3+: transactional_id
  req.acks = r.read_int16();
  req.timeout_ms = r.read_int32();
  std::size_t topic_count = r.read_array_length(flex);
  req.topics.reserve(topic_count);
  for (std::size_t i = 0; i < topic_count; ++i) {
    topic t;
    t.name = r.read_string(flex);
    std::size_t partition_count = r.read_array_length(flex);
    t.partitions.reserve(partition_count);
    for (std::size_t j = 0; j < partition_count; ++j) {
      partition p;
      p.index = r.read_int32();
      std::optional<byte_view> records = r.read_nullable_bytes(flex);
      // An empty view at the current position, so records_offset stays meaningful.
      p.records = records ? *records : r.buffer().subspan(r.position(), 0);
      p.records_offset = r.offset_of(p.records);
      if (flex) r.skip_tagged_fields();
      t.partitions.push_back(p);
    }
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void produce_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::produce, version);
  w.write_array_length(topics.size(), flex);
  for (const auto& t : topics) {
    w.write_string(t.name, flex);
    w.write_array_length(t.partitions.size(), flex);
    for (const auto& p : t.partitions) {
      w.write_int32(p.index);
      w.write_int16(static_cast<std::int16_t>(p.error));
      w.write_int64(p.base_offset);
      if (version >= 2) w.write_int64(p.log_append_time_ms);  // v2+: log_append_time_ms
      if (version >= 5) w.write_int64(p.log_start_offset);    // v5+: log_start_offset
      if (version >= 8) {
        w.write_array_length(p.record_errors.size(), flex);  // v8+: record_errors
        for (const auto& e : p.record_errors) {
          w.write_int32(e.batch_index);
          w.write_nullable_string(e.batch_index_error_message, flex);
          if (flex) w.write_empty_tagged_fields();
        }
        w.write_nullable_string(p.error_message, flex);  // v8+: error_message
      }
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
  w.write_int32(throttle_time_ms);  // v1+: throttle_time_ms
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
