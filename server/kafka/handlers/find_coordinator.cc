#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/protocol/find_coordinator.h"

namespace server::kafka {

// kairo is its one node's group and transaction coordinator, so every key is answered with the
// node Metadata lists.
boost::asio::awaitable<void> handle_find_coordinator(request_context ctx) {
  auto req = protocol::find_coordinator_request::decode(ctx.body, ctx.header.api_version);
  auto& b = ctx.broker;
  const auto advertised = b.config.advertised_or_listen();
  const std::string failure = b.engine.storage().failure;
  protocol::find_coordinator_response resp;
  for (auto& key : req.keys) {
    auto& c = resp.coordinators.emplace_back();
    c.key = key;
    if (req.key_type != protocol::coordinator_type_group && req.key_type != protocol::coordinator_type_transaction) {
      c.error = protocol::error_code::invalid_request;
      c.error_message = "key type " + std::to_string(req.key_type) + " is neither a group (0) nor a transaction (1)";
    } else if (!failure.empty()) {
      // Group and transaction state cannot be stored while the log refuses writes.
      c.error = protocol::error_code::coordinator_not_available;
      c.error_message = "the broker's log has failed: " + failure;
    } else {
      c.node_id = b.node_id;
      c.host = advertised.host;
      c.port = advertised.port;
    }
  }
  if (resp.coordinators.empty()) resp.coordinators.emplace_back().error = protocol::error_code::invalid_request;
  ctx.respond(encode_response(ctx, resp));
  co_return;
}

}  // namespace server::kafka
