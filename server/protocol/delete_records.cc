#include "server/protocol/delete_records.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

delete_records_request delete_records_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::delete_records, version);
  const bool flex = is_flexible(api_key::delete_records, version);
  delete_records_request req;
  const std::size_t topics = r.read_array_length(flex);
  req.topics.reserve(topics);
  for (std::size_t i = 0; i < topics; ++i) {
    topic t;
    t.name = r.read_string(flex);
    const std::size_t parts = r.read_array_length(flex);
    t.partitions.reserve(parts);
    for (std::size_t k = 0; k < parts; ++k) {
      partition p;
      p.partition_index = r.read_int32();
      p.offset = r.read_int64();
      if (flex) r.skip_tagged_fields();
      t.partitions.push_back(p);
    }
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  req.timeout_ms = r.read_int32();
  if (flex) r.skip_tagged_fields();
  return req;
}

void delete_records_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::delete_records, version);
  w.write_int32(throttle_time_ms);
  w.write_array_length(topics.size(), flex);
  for (const auto& t : topics) {
    w.write_string(t.name, flex);
    w.write_array_length(t.partitions.size(), flex);
    for (const auto& p : t.partitions) {
      w.write_int32(p.partition_index);
      w.write_int64(p.low_watermark);
      w.write_int16(static_cast<std::int16_t>(p.error));
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
