#include "server/protocol/init_producer_id.h"

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"

namespace server::protocol {

init_producer_id_request init_producer_id_request::decode(reader& r, std::int16_t version) {
  require_supported(api_key::init_producer_id, version);
  const bool flex = is_flexible(api_key::init_producer_id, version);
  init_producer_id_request req;
  req.transactional_id = r.read_nullable_string(flex);  // nullable in every version
  req.transaction_timeout_ms = r.read_int32();
  if (version >= 3) req.producer_id = r.read_int64();     // v3+: producer_id
  if (version >= 3) req.producer_epoch = r.read_int16();  // v3+: producer_epoch
  if (flex) r.skip_tagged_fields();
  return req;
}

void init_producer_id_response::encode(writer& w, std::int16_t version) const {
  const bool flex = is_flexible(api_key::init_producer_id, version);
  w.write_int32(throttle_time_ms);
  w.write_int16(static_cast<std::int16_t>(error));
  w.write_int64(producer_id);
  w.write_int16(producer_epoch);
  if (flex) w.write_empty_tagged_fields();
}

}  // namespace server::protocol
