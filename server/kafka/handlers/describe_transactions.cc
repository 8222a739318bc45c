#include <map>

#include "engine/txn_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/describe_transactions.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_describe_transactions(request_context ctx) {
  auto req = protocol::describe_transactions_request::decode(ctx.body, ctx.header.api_version);
  auto reply = on_connection(ctx, [ctx](std::vector<engine::txn_description> txns) {
    protocol::describe_transactions_response resp;
    for (const auto& d : txns) {
      auto& out = resp.transaction_states.emplace_back();
      out.error = map_txn_error(d.error, true);
      out.transactional_id = d.transactional_id;
      if (d.error) continue;
      out.transaction_state = std::string(engine::to_string(d.state));
      out.transaction_timeout_ms = d.timeout_ms;
      out.transaction_start_time_ms = d.start_ms;
      out.producer_id = d.producer_id;
      out.producer_epoch = d.producer_epoch;
      std::map<std::string, std::vector<int32_t>> by_topic;
      for (const auto& tp : d.partitions) by_topic[tp.topic].push_back(tp.partition);
      for (auto& [topic, parts] : by_topic) out.topics.push_back({topic, std::move(parts)});
    }
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run_txn(
      [ids = std::move(req.transactional_ids), reply = std::move(reply)](
          engine::txn_coordinator& c, const engine::coordinator_time&) mutable { reply(c.describe(ids)); });
  co_return;
}

}  // namespace server::kafka
