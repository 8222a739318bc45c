#include "server/kafka/api_table.h"
#include "server/protocol/find_coordinator.h"

namespace server::kafka {

// Consumer groups and transactions are not served yet: every key gets COORDINATOR_NOT_AVAILABLE,
// which clients treat as retriable, so consumers that assign partitions themselves work.
boost::asio::awaitable<void> handle_find_coordinator(request_context ctx) {
  auto req = protocol::find_coordinator_request::decode(ctx.body, ctx.header.api_version);
  protocol::find_coordinator_response resp;
  for (auto& key : req.keys) {
    auto& c = resp.coordinators.emplace_back();
    c.key = key;
    c.error = protocol::error_code::coordinator_not_available;
    c.error_message = "kairo does not run a group or transaction coordinator yet; assign partitions explicitly";
  }
  if (resp.coordinators.empty()) resp.coordinators.emplace_back().error = protocol::error_code::invalid_request;
  ctx.respond(encode_response(ctx, resp));
  co_return;
}

}  // namespace server::kafka
