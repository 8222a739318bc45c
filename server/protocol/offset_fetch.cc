#include "server/protocol/offset_fetch.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

namespace {

// The topic list has the same shape at top level (v0-7) and inside a group (v8+).
std::vector<offset_fetch_request::topic> read_topics(reader& r, std::size_t n, bool flex) {
  std::vector<offset_fetch_request::topic> topics;
  topics.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    offset_fetch_request::topic t;
    t.name = r.read_string(flex);
    std::size_t partition_count = r.read_array_length(flex);
    t.partition_indexes.reserve(partition_count);
    for (std::size_t j = 0; j < partition_count; ++j) t.partition_indexes.push_back(r.read_int32());
    if (flex) r.skip_tagged_fields();
    topics.push_back(std::move(t));
  }
  return topics;
}

void write_topics(writer& w, const std::vector<offset_fetch_response::topic>& topics, std::int16_t version, bool flex) {
  w.write_array_length(topics.size(), flex);
  for (const auto& t : topics) {
    w.write_string(t.name, flex);
    w.write_array_length(t.partitions.size(), flex);
    for (const auto& p : t.partitions) {
      w.write_int32(p.partition_index);
      w.write_int64(p.committed_offset);
      if (version >= 5) w.write_int32(p.committed_leader_epoch);  // v5+: committed_leader_epoch
      w.write_nullable_string(p.metadata, flex);
      w.write_int16(static_cast<std::int16_t>(p.error));
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
}

}  // namespace

offset_fetch_request offset_fetch_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::offset_fetch, version);
  const bool flex = is_flexible(api_key::offset_fetch, version);
  offset_fetch_request req;
  if (version <= 7) {
    group g;
    g.group_id = r.read_string(flex);  // v0-7: group_id
    if (version <= 1) {
      g.topics = read_topics(r, r.read_array_length(flex), flex);  // v0-1: topics
    } else if (auto n = r.read_nullable_array_length(flex)) {
      g.topics = read_topics(r, *n, flex);  // v2-7: topics nullable
    }
    req.groups.push_back(std::move(g));
  } else {
    std::size_t group_count = r.read_array_length(flex);  // v8+: groups
    req.groups.reserve(group_count);
    for (std::size_t i = 0; i < group_count; ++i) {
      group g;
      g.group_id = r.read_string(flex);
      if (auto n = r.read_nullable_array_length(flex)) g.topics = read_topics(r, *n, flex);
      if (flex) r.skip_tagged_fields();
      req.groups.push_back(std::move(g));
    }
  }
  if (version >= 7) req.require_stable = r.read_bool();  // v7+: require_stable
  if (flex) r.skip_tagged_fields();
  return req;
}

void offset_fetch_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::offset_fetch, version);
  if (version >= 3) w.write_int32(throttle_time_ms);  // v3+: throttle_time_ms
  if (version <= 7) {
    if (groups.size() != 1) {
      throw std::invalid_argument("OffsetFetch v0-7 answers exactly one group");
    }
    const group& g = groups.front();
    write_topics(w, g.topics, version, flex);                             // v0-7: topics
    if (version >= 2) w.write_int16(static_cast<std::int16_t>(g.error));  // v2-7: error_code
  } else {
    w.write_array_length(groups.size(), flex);  // v8+: groups
    for (const auto& g : groups) {
      w.write_string(g.group_id, flex);
      write_topics(w, g.topics, version, flex);
      w.write_int16(static_cast<std::int16_t>(g.error));
      if (flex) w.write_empty_tagged_fields();
    }
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
