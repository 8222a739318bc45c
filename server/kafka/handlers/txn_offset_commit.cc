#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/txn_offset_commit.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_txn_offset_commit(request_context ctx) {
  const int16_t v = ctx.header.api_version;
  auto req = protocol::txn_offset_commit_request::decode(ctx.body, v);
  auto& eng = ctx.broker.engine;
  engine::txn_commit_request c;
  c.group_id = req.group_id;
  c.producer_id = req.producer_id;
  c.producer_epoch = req.producer_epoch;
  c.generation = req.generation_id;
  c.member_id = req.member_id;
  c.group_instance_id = req.group_instance_id;

  protocol::txn_offset_commit_response resp;
  std::vector<std::pair<size_t, size_t>> slots;  // where each offset handed over is answered
  for (auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    const auto info = eng.find_topic(t.name);
    for (auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      if (!info || p.partition_index < 0 || p.partition_index >= info->partitions) {
        rp.error = protocol::error_code::unknown_topic_or_partition;
        continue;
      }
      engine::committed_offset off;
      off.offset = p.committed_offset;
      off.leader_epoch = p.committed_leader_epoch;
      off.metadata = p.committed_metadata;
      c.offsets.emplace_back(engine::topic_partition{t.name, p.partition_index}, std::move(off));
      slots.emplace_back(resp.topics.size() - 1, rt.partitions.size() - 1);
    }
  }
  if (c.offsets.empty()) {
    ctx.respond(encode_response(ctx, resp));
    co_return;
  }
  auto reply =
      on_connection(ctx, [ctx, resp = std::move(resp), slots = std::move(slots)](engine::commit_result r) mutable {
        for (size_t i = 0; i < slots.size() && i < r.size(); ++i)
          resp.topics[slots[i].first].partitions[slots[i].second].error = map_txn_error(r[i], true);
        ctx.respond(encode_response(ctx, resp));
      });
  ctx.broker.coordinators->run([c = std::move(c), reply = std::move(reply)](
                                   engine::group_coordinator& gc, const engine::coordinator_time& now) mutable {
    gc.txn_commit(now, std::move(c), std::move(reply));
  });
}

}  // namespace server::kafka
