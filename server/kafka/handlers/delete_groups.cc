#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/delete_groups.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_delete_groups(request_context ctx) {
  auto req = protocol::delete_groups_request::decode(ctx.body, ctx.header.api_version);
  auto reply = on_connection(ctx, [ctx, ids = req.groups_names](std::vector<std::error_code> errors) {
    protocol::delete_groups_response resp;
    for (size_t i = 0; i < ids.size(); ++i)
      resp.results.push_back({ids[i], i < errors.size() ? map_group_error(errors[i]) : protocol::error_code::none});
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run([ids = std::move(req.groups_names), reply = std::move(reply)](
                                   engine::group_coordinator& c, const engine::coordinator_time& now) mutable {
    c.delete_groups(now, std::move(ids), std::move(reply));
  });
  co_return;
}

}  // namespace server::kafka
