#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/list_groups.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_list_groups(request_context ctx) {
  auto req = protocol::list_groups_request::decode(ctx.body, ctx.header.api_version);
  std::set<engine::group_state> states;
  for (const auto& s : req.states_filter)
    if (auto st = engine::parse_group_state(s)) states.insert(*st);
  // A filter naming only states that do not exist matches nothing, not everything.
  const bool none = !req.states_filter.empty() && states.empty();
  auto reply =
      on_connection(ctx, [ctx](protocol::list_groups_response resp) { ctx.respond(encode_response(ctx, resp)); });
  ctx.broker.coordinators->run(
      [states, none, reply = std::move(reply)](engine::group_coordinator& c, const engine::coordinator_time&) mutable {
        protocol::list_groups_response resp;
        if (!none)
          for (auto& g : c.list(states))
            resp.groups.push_back({g.group_id, g.protocol_type, std::string(engine::to_string(g.state))});
        reply(std::move(resp));
      });
  co_return;
}

}  // namespace server::kafka
