#include "server/protocol/end_txn.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

end_txn_request end_txn_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::end_txn, version);
  const bool flex = is_flexible(api_key::end_txn, version);
  end_txn_request req;
  req.transactional_id = r.read_string(flex);
  req.producer_id = r.read_int64();
  req.producer_epoch = r.read_int16();
  req.committed = r.read_bool();
  if (flex) r.skip_tagged_fields();
  return req;
}

void end_txn_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::end_txn, version);
  w.write_int32(throttle_time_ms);
  w.write_int16(static_cast<std::int16_t>(error));
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
