#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/kafka/handlers/offset_commits.h"
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
  auto slots = collect_commits(eng, req.topics, resp, c.offsets, [](const auto& p) {
    engine::committed_offset off;
    off.offset = p.committed_offset;
    off.leader_epoch = p.committed_leader_epoch;
    off.metadata = p.committed_metadata;
    return off;
  });
  if (c.offsets.empty()) {
    ctx.respond(encode_response(ctx, resp));
    co_return;
  }
  auto reply =
      on_connection(ctx, [ctx, resp = std::move(resp), slots = std::move(slots)](engine::commit_result r) mutable {
        apply_commit_result(resp, slots, r, [](std::error_code ec) { return map_txn_error(ec, true); });
        ctx.respond(encode_response(ctx, resp));
      });
  ctx.broker.coordinators->run([c = std::move(c), reply = std::move(reply)](
                                   engine::group_coordinator& gc, const engine::coordinator_time& now) mutable {
    gc.txn_commit(now, std::move(c), std::move(reply));
  });
}

}  // namespace server::kafka
