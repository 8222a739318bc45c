#include "server/protocol/fetch.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

fetch_request fetch_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::fetch, version);
  const bool flex = is_flexible(api_key::fetch, version);
  fetch_request req;
  if (version <= 14) req.replica_id = r.read_int32();  // v0-14: replica_id (then tagged)
  req.max_wait_ms = r.read_int32();
  req.min_bytes = r.read_int32();
  if (version >= 3) req.max_bytes = r.read_int32();       // v3+: max_bytes
  if (version >= 4) req.isolation_level = r.read_int8();  // v4+: isolation_level
  if (version >= 7) req.session_id = r.read_int32();      // v7+: session_id
  if (version >= 7) req.session_epoch = r.read_int32();   // v7+: session_epoch
  std::size_t topic_count = r.read_array_length(flex);
  req.topics.reserve(topic_count);
  for (std::size_t i = 0; i < topic_count; ++i) {
    topic t;
    if (version >= 13) t.topic_id = r.read_uuid();  // v13+: topic_id
    else t.name = r.read_string(flex);
    std::size_t partition_count = r.read_array_length(flex);
    t.partitions.reserve(partition_count);
    for (std::size_t j = 0; j < partition_count; ++j) {
      partition p;
      p.partition = r.read_int32();
      if (version >= 9) p.current_leader_epoch = r.read_int32();  // v9+: current_leader_epoch
      p.fetch_offset = r.read_int64();
      if (version >= 12) p.last_fetched_epoch = r.read_int32();  // v12+: last_fetched_epoch
      if (version >= 5) p.log_start_offset = r.read_int64();     // v5+: log_start_offset
      p.partition_max_bytes = r.read_int32();
      if (flex) r.skip_tagged_fields();
      t.partitions.push_back(p);
    }
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  if (version >= 7) {
    std::size_t forgotten_count = r.read_array_length(flex);  // v7+: forgotten_topics_data
    req.forgotten_topics_data.reserve(forgotten_count);
    for (std::size_t i = 0; i < forgotten_count; ++i) {
      forgotten_topic f;
      if (version >= 13) f.topic_id = r.read_uuid();  // v13+: topic_id
      else f.name = r.read_string(flex);
      std::size_t n = r.read_array_length(flex);
      f.partitions.reserve(n);
      for (std::size_t j = 0; j < n; ++j) f.partitions.push_back(r.read_int32());
      if (flex) r.skip_tagged_fields();
      req.forgotten_topics_data.push_back(std::move(f));
    }
  }
  if (version >= 11) req.rack_id = r.read_string(flex);  // v11+: rack_id
  // v12+ carries cluster_id as tag 0 here; the broker does not check it.
  if (flex) r.skip_tagged_fields();
  return req;
}

void fetch_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::fetch, version);
  if (version >= 1) w.write_int32(throttle_time_ms);                  // v1+: throttle_time_ms
  if (version >= 7) w.write_int16(static_cast<std::int16_t>(error));  // v7+: error_code
  if (version >= 7) w.write_int32(session_id);                        // v7+: session_id
  w.write_array_length(responses.size(), flex);
  for (const auto& t : responses) {
    if (version >= 13) w.write_uuid(t.topic_id);  // v13+: topic_id
    else w.write_string(t.name, flex);
    w.write_array_length(t.partitions.size(), flex);
    for (const auto& p : t.partitions) {
      w.write_int32(p.partition_index);
      w.write_int16(static_cast<std::int16_t>(p.error));
      w.write_int64(p.high_watermark);
      if (version >= 4) w.write_int64(p.last_stable_offset);  // v4+: last_stable_offset
      if (version >= 5) w.write_int64(p.log_start_offset);    // v5+: log_start_offset
      if (version >= 4) {
        // v4+: aborted_transactions
        std::optional<std::size_t> n;
        if (p.aborted_transactions) n = p.aborted_transactions->size();
        w.write_nullable_array_length(n, flex);
        if (p.aborted_transactions) {
          for (const auto& a : *p.aborted_transactions) {
            w.write_int64(a.producer_id);
            w.write_int64(a.first_offset);
            if (flex) w.write_empty_tagged_fields();
          }
        }
      }
      if (version >= 11) w.write_int32(p.preferred_read_replica);  // v11+: preferred_read_replica
      // records: one length for all views, then the views back to back. A bytes length is
      // encoded exactly like an array count (int32, or unsigned varint n + 1 when flexible).
      std::size_t total = 0;
      for (auto v : p.records) total += v.size();
      w.write_array_length(total, flex);
      for (auto v : p.records) w.write_raw(v);
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
