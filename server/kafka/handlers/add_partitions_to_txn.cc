#include "engine/txn_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/add_partitions_to_txn.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_add_partitions_to_txn(request_context ctx) {
  const int16_t v = ctx.header.api_version;
  auto req = protocol::add_partitions_to_txn_request::decode(ctx.body, v);
  auto& eng = ctx.broker.engine;
  // Kafka's answer when one partition does not exist: that one UNKNOWN_TOPIC_OR_PARTITION, the
  // others OPERATION_NOT_ATTEMPTED, and the transaction unchanged.
  protocol::add_partitions_to_txn_response resp;
  std::vector<engine::topic_partition> tps;
  bool unknown = false;
  for (auto& t : req.topics) {
    auto& rt = resp.results.emplace_back();
    rt.name = t.name;
    const auto info = eng.find_topic(t.name);
    for (int32_t p : t.partitions) {
      const bool exists = info && p >= 0 && p < info->partitions;
      unknown |= !exists;
      rt.partitions.push_back(
          {p, exists ? protocol::error_code::none : protocol::error_code::unknown_topic_or_partition});
      tps.push_back({t.name, p});
    }
  }
  if (unknown) {
    for (auto& rt : resp.results)
      for (auto& rp : rt.partitions)
        if (rp.error == protocol::error_code::none) rp.error = protocol::error_code::operation_not_attempted;
    ctx.respond(encode_response(ctx, resp));
    co_return;
  }
  auto reply = on_connection(ctx, [ctx, v, resp = std::move(resp)](std::error_code e) mutable {
    for (auto& rt : resp.results)
      for (auto& rp : rt.partitions) rp.error = map_txn_error(e, v >= 2);
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run_txn([req = std::move(req), tps = std::move(tps), reply = std::move(reply)](
                                       engine::txn_coordinator& c, const engine::coordinator_time& now) mutable {
    c.add_partitions(now, req.transactional_id, req.producer_id, req.producer_epoch, std::move(tps), std::move(reply));
  });
}

}  // namespace server::kafka
