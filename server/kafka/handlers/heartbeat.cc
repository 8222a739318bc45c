#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/heartbeat.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_heartbeat(request_context ctx) {
  auto req = protocol::heartbeat_request::decode(ctx.body, ctx.header.api_version);
  engine::heartbeat_request h{std::move(req.group_id), req.generation_id, std::move(req.member_id),
                              std::move(req.group_instance_id)};
  auto reply = on_connection(ctx, [ctx](std::error_code e) {
    protocol::heartbeat_response resp;
    resp.error = map_group_error(e);
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run(
      [h = std::move(h), reply = std::move(reply)](
          engine::group_coordinator& c, const engine::coordinator_time& now) mutable { reply(c.heartbeat(now, h)); });
  co_return;
}

}  // namespace server::kafka
