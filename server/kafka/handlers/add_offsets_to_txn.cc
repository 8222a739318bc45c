#include "engine/txn_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/add_offsets_to_txn.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_add_offsets_to_txn(request_context ctx) {
  const int16_t v = ctx.header.api_version;
  auto req = protocol::add_offsets_to_txn_request::decode(ctx.body, v);
  auto reply = on_connection(ctx, [ctx, v](std::error_code e) {
    protocol::add_offsets_to_txn_response resp;
    resp.error = map_txn_error(e, v >= 2);
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run_txn([req = std::move(req), reply = std::move(reply)](
                                       engine::txn_coordinator& c, const engine::coordinator_time& now) mutable {
    c.add_offsets(now, req.transactional_id, req.producer_id, req.producer_epoch, req.group_id, std::move(reply));
  });
  co_return;
}

}  // namespace server::kafka
