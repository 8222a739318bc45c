#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/leave_group.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_leave_group(request_context ctx) {
  auto req = protocol::leave_group_request::decode(ctx.body, ctx.header.api_version);
  std::vector<engine::leave_member> members;
  for (auto& m : req.members) members.push_back({m.member_id, m.group_instance_id, m.reason.value_or("")});

  auto reply = on_connection(ctx, [ctx, members](engine::leave_result r) {
    protocol::leave_group_response resp;
    resp.error = map_group_error(r.error);
    for (size_t i = 0; i < r.members.size() && i < members.size(); ++i)
      resp.members.push_back({members[i].member_id, members[i].group_instance_id, map_group_error(r.members[i])});
    // v0-2 name one member and have no per-member answer: its error is the answer's.
    if (ctx.header.api_version <= 2 && resp.error == protocol::error_code::none)
      for (const auto& m : resp.members)
        if (m.error != protocol::error_code::none) {
          resp.error = m.error;
          break;
        }
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run(
      [group = std::move(req.group_id), members = std::move(members), reply = std::move(reply)](
          engine::group_coordinator& c, const engine::coordinator_time& now) mutable {
        reply(c.leave(now, group, members));
      });
  co_return;
}

}  // namespace server::kafka
