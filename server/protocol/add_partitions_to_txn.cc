#include "server/protocol/add_partitions_to_txn.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

// v0-3 carry Kafka's "V3AndBelow" fields: one transaction per request. The v4+ batched layout
// (Transactions, ResultsByTransaction) is broker to broker and never decoded here.
add_partitions_to_txn_request add_partitions_to_txn_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::add_partitions_to_txn, version);
  const bool flex = is_flexible(api_key::add_partitions_to_txn, version);
  add_partitions_to_txn_request req;
  req.transactional_id = r.read_string(flex);
  req.producer_id = r.read_int64();
  req.producer_epoch = r.read_int16();
  std::size_t topic_count = r.read_array_length(flex);
  req.topics.reserve(topic_count);
  for (std::size_t i = 0; i < topic_count; ++i) {
    topic t;
    t.name = r.read_string(flex);
    // []int32: plain values, no tagged section per element.
    std::size_t partition_count = r.read_array_length(flex);
    t.partitions.reserve(partition_count);
    for (std::size_t j = 0; j < partition_count; ++j) t.partitions.push_back(r.read_int32());
    if (flex) r.skip_tagged_fields();
    req.topics.push_back(std::move(t));
  }
  if (flex) r.skip_tagged_fields();
  return req;
}

void add_partitions_to_txn_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::add_partitions_to_txn, version);
  w.write_int32(throttle_time_ms);
  w.write_array_length(results.size(), flex);  // ResultsByTopicV3AndBelow
  for (const auto& t : results) {
    w.write_string(t.name, flex);
    w.write_array_length(t.partitions.size(), flex);
    for (const auto& p : t.partitions) {
      w.write_int32(p.partition_index);
      w.write_int16(static_cast<std::int16_t>(p.error));
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
