#include "server/protocol/list_transactions.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

// Flexible from v0; the flag is still computed from the table like everywhere else.
list_transactions_request list_transactions_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::list_transactions, version);
  const bool flex = is_flexible(api_key::list_transactions, version);
  list_transactions_request req;
  std::size_t state_count = r.read_array_length(flex);
  req.state_filters.reserve(state_count);
  for (std::size_t i = 0; i < state_count; ++i) req.state_filters.push_back(r.read_string(flex));
  std::size_t producer_count = r.read_array_length(flex);
  req.producer_id_filters.reserve(producer_count);
  for (std::size_t i = 0; i < producer_count; ++i) {
    req.producer_id_filters.push_back(r.read_int64());
  }
  if (version >= 1) req.duration_filter = r.read_int64();  // v1+: duration_filter
  if (flex) r.skip_tagged_fields();
  return req;
}

// v1 answers exactly like v0.
void list_transactions_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::list_transactions, version);
  w.write_int32(throttle_time_ms);
  w.write_int16(static_cast<std::int16_t>(error));
  w.write_array_length(unknown_state_filters.size(), flex);
  for (const auto& s : unknown_state_filters) w.write_string(s, flex);
  w.write_array_length(transaction_states.size(), flex);
  for (const auto& t : transaction_states) {
    w.write_string(t.transactional_id, flex);
    w.write_int64(t.producer_id);
    w.write_string(t.transaction_state, flex);
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
