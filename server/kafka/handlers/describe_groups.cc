#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/describe_groups.h"

namespace server::kafka {
namespace {

// What Kafka reports without an authorizer: every operation a group supports (READ 3,
// DELETE 6, DESCRIBE 8, as bits of the AclOperation codes).
constexpr int32_t group_operations = (1 << 3) | (1 << 6) | (1 << 8);

}  // namespace

boost::asio::awaitable<void> handle_describe_groups(request_context ctx) {
  auto req = protocol::describe_groups_request::decode(ctx.body, ctx.header.api_version);
  const bool ops = req.include_authorized_operations;
  auto reply = on_connection(ctx, [ctx, ops](std::vector<engine::group_description> groups) {
    protocol::describe_groups_response resp;
    for (const auto& d : groups) {
      auto& g = resp.groups.emplace_back();
      g.group_id = d.group_id;
      g.group_state = std::string(engine::to_string(d.state));
      g.protocol_type = d.protocol_type;
      g.protocol_data = d.protocol_name;
      if (ops) g.authorized_operations = group_operations;
      for (const auto& m : d.members)
        g.members.push_back({m.member_id, m.group_instance_id, m.client_id, m.client_host, m.metadata, m.assignment});
    }
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run([ids = std::move(req.groups), reply = std::move(reply)](
                                   engine::group_coordinator& c, const engine::coordinator_time&) mutable {
    std::vector<engine::group_description> out;
    for (const auto& id : ids) out.push_back(c.describe(id));
    reply(std::move(out));
  });
  co_return;
}

}  // namespace server::kafka
