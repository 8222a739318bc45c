#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/sync_group.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_sync_group(request_context ctx) {
  auto req = protocol::sync_group_request::decode(ctx.body, ctx.header.api_version);
  engine::sync_request s;
  s.group_id = std::move(req.group_id);
  s.generation = req.generation_id;
  s.member_id = std::move(req.member_id);
  s.group_instance_id = std::move(req.group_instance_id);
  s.protocol_type = std::move(req.protocol_type);
  s.protocol_name = std::move(req.protocol_name);
  for (auto& a : req.assignments) s.assignments.emplace_back(std::move(a.member_id), copy_bytes(a.assignment));

  auto reply = on_connection(ctx, [ctx](engine::sync_result r) {
    protocol::sync_group_response resp;
    resp.error = map_group_error(r.error);
    resp.protocol_type = r.protocol_type;
    resp.protocol_name = r.protocol_name;
    resp.assignment = r.assignment;
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run([s = std::move(s), reply = std::move(reply)](
                                   engine::group_coordinator& c, const engine::coordinator_time& now) mutable {
    c.sync(now, std::move(s), std::move(reply));
  });
  co_return;
}

}  // namespace server::kafka
