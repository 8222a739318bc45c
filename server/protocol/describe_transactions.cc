#include "server/protocol/describe_transactions.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

// Flexible from v0; the flag is still computed from the table like everywhere else.
describe_transactions_request describe_transactions_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::describe_transactions, version);
  const bool flex = is_flexible(api_key::describe_transactions, version);
  describe_transactions_request req;
  std::size_t n = r.read_array_length(flex);
  req.transactional_ids.reserve(n);
  for (std::size_t i = 0; i < n; ++i) req.transactional_ids.push_back(r.read_string(flex));
  if (flex) r.skip_tagged_fields();
  return req;
}

void describe_transactions_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::describe_transactions, version);
  w.write_int32(throttle_time_ms);
  w.write_array_length(transaction_states.size(), flex);
  for (const auto& s : transaction_states) {
    w.write_int16(static_cast<std::int16_t>(s.error));
    w.write_string(s.transactional_id, flex);
    w.write_string(s.transaction_state, flex);
    w.write_int32(s.transaction_timeout_ms);
    w.write_int64(s.transaction_start_time_ms);
    w.write_int64(s.producer_id);
    w.write_int16(s.producer_epoch);
    w.write_array_length(s.topics.size(), flex);
    for (const auto& t : s.topics) {
      w.write_string(t.topic, flex);
      w.write_array_length(t.partitions.size(), flex);
      for (std::int32_t p : t.partitions) w.write_int32(p);
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
