#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/join_group.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_join_group(request_context ctx) {
  const int16_t v = ctx.header.api_version;
  auto req = protocol::join_group_request::decode(ctx.body, v);
  engine::join_request j;
  j.group_id = std::move(req.group_id);
  j.member_id = std::move(req.member_id);
  j.group_instance_id = std::move(req.group_instance_id);
  j.protocol_type = std::move(req.protocol_type);
  for (auto& p : req.protocols) j.protocols.push_back({std::move(p.name), copy_bytes(p.metadata)});
  j.session_timeout = std::chrono::milliseconds(req.session_timeout_ms);
  // v0 has no rebalance timeout: the session timeout stands in, as in Kafka.
  j.rebalance_timeout = std::chrono::milliseconds(v >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms);
  j.client_id = ctx.header.client_id.value_or("");
  j.client_host = *ctx.client_host;
  j.require_known_member_id = v >= 4;
  j.supports_skip_assignment = v >= 9;
  j.reason = req.reason.value_or("");

  auto reply = on_connection(ctx, [ctx](engine::join_result r) {
    protocol::join_group_response resp;
    resp.error = map_group_error(r.error);
    resp.generation_id = r.generation;
    resp.protocol_type = r.protocol_type;
    resp.protocol_name = r.protocol_name;
    resp.leader = r.leader;
    resp.skip_assignment = r.skip_assignment;
    resp.member_id = r.member_id;
    for (auto& m : r.members) resp.members.push_back({m.member_id, m.group_instance_id, m.metadata});
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run([j = std::move(j), reply = std::move(reply)](
                                   engine::group_coordinator& c, const engine::coordinator_time& now) mutable {
    c.join(now, std::move(j), std::move(reply));
  });
  co_return;
}

}  // namespace server::kafka
