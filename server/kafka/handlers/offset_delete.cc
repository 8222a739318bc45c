#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/offset_delete.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_offset_delete(request_context ctx) {
  auto req = protocol::offset_delete_request::decode(ctx.body, ctx.header.api_version);
  auto& eng = ctx.broker.engine;
  protocol::offset_delete_response resp;
  std::vector<engine::topic_partition> tps;
  std::vector<std::pair<size_t, size_t>> slots;  // where each of tps is answered in resp
  for (auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    const auto info = eng.find_topic(t.name);
    for (int32_t p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p;
      if (!info || p < 0 || p >= info->partitions) {
        rp.error = protocol::error_code::unknown_topic_or_partition;
        continue;
      }
      tps.push_back({t.name, p});
      slots.emplace_back(resp.topics.size() - 1, rt.partitions.size() - 1);
    }
  }
  auto reply = on_connection(ctx, [ctx, resp = std::move(resp), slots = std::move(slots)](
                                      std::error_code group_error, std::vector<std::error_code> errors) mutable {
    resp.error = map_group_error(group_error);
    if (group_error) {
      resp.topics.clear();  // a group-level error answers no partition
    } else {
      for (size_t i = 0; i < slots.size() && i < errors.size(); ++i)
        resp.topics[slots[i].first].partitions[slots[i].second].error = map_group_error(errors[i]);
    }
    ctx.respond(encode_response(ctx, resp));
  });
  ctx.broker.coordinators->run([group = std::move(req.group_id), tps = std::move(tps), reply = std::move(reply)](
                                   engine::group_coordinator& c, const engine::coordinator_time& now) mutable {
    c.delete_offsets(now, group, std::move(tps), std::move(reply));
  });
  co_return;
}

}  // namespace server::kafka
