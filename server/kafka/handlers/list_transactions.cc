#include "engine/txn_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/list_transactions.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_list_transactions(request_context ctx) {
  auto req = protocol::list_transactions_request::decode(ctx.body, ctx.header.api_version);
  std::set<engine::txn_state> states;
  std::vector<std::string> unknown;
  for (const auto& s : req.state_filters) {
    if (auto st = engine::parse_txn_state(s)) states.insert(*st);
    else unknown.push_back(s);
  }
  // Only unknown states asked for: nothing matches (not "no filter").
  const bool none = !req.state_filters.empty() && states.empty();
  std::set<int64_t> pids(req.producer_id_filters.begin(), req.producer_id_filters.end());
  std::optional<std::chrono::milliseconds> longer;
  if (req.duration_filter >= 0) longer = std::chrono::milliseconds(req.duration_filter);
  auto reply = on_connection(ctx, [ctx, unknown](std::vector<engine::txn_listing> txns) {
    protocol::list_transactions_response resp;
    resp.unknown_state_filters = unknown;
    for (const auto& t : txns)
      resp.transaction_states.push_back({t.transactional_id, t.producer_id, std::string(engine::to_string(t.state))});
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run_txn([states, pids, longer, none, reply = std::move(reply)](
                                       engine::txn_coordinator& c, const engine::coordinator_time& now) mutable {
    reply(none ? std::vector<engine::txn_listing>{} : c.list(states, pids, longer, now));
  });
  co_return;
}

}  // namespace server::kafka
