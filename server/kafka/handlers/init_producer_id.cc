#include "engine/txn_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/init_producer_id.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_init_producer_id(request_context ctx) {
  const int16_t v = ctx.header.api_version;
  auto req = protocol::init_producer_id_request::decode(ctx.body, v);
  auto reply = on_connection(ctx, [ctx, v](engine::init_pid_result r) {
    protocol::init_producer_id_response resp;
    resp.error = map_txn_error(r.error, v >= 4);
    resp.producer_id = r.producer_id;
    resp.producer_epoch = r.producer_epoch;
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run_txn([req = std::move(req), reply = std::move(reply)](
                                       engine::txn_coordinator& c, const engine::coordinator_time& now) mutable {
    c.init_producer_id(now, req.transactional_id, req.transaction_timeout_ms, req.producer_id, req.producer_epoch,
                       std::move(reply));
  });
  co_return;
}

}  // namespace server::kafka
