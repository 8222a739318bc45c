#include <map>

#include "engine/group_coordinator.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/handlers/group_reply.h"
#include "server/protocol/offset_fetch.h"

namespace server::kafka {
namespace {

struct group_query {
  std::string group_id;
  std::optional<std::vector<engine::topic_partition>> tps;  // nullopt: all
};

protocol::offset_fetch_response::group answer(const group_query& q, const std::vector<engine::fetched_offset>& got) {
  protocol::offset_fetch_response::group g;
  g.group_id = q.group_id;
  std::map<std::string, size_t> topic_at;  // topics in the order they first appear
  for (const auto& f : got) {
    auto [it, added] = topic_at.emplace(f.tp.topic, g.topics.size());
    if (added) g.topics.push_back({f.tp.topic, {}});
    protocol::offset_fetch_response::partition p;
    p.partition_index = f.tp.partition;
    p.committed_offset = f.offset.offset;
    p.committed_leader_epoch = f.offset.leader_epoch;
    p.metadata = f.offset.metadata.value_or("");
    p.error = map_group_error(f.error);
    g.topics[it->second].partitions.push_back(std::move(p));
  }
  return g;
}

}  // namespace

boost::asio::awaitable<void> handle_offset_fetch(request_context ctx) {
  auto req = protocol::offset_fetch_request::decode(ctx.body, ctx.header.api_version);
  std::vector<group_query> queries;
  for (auto& g : req.groups) {
    group_query q{std::move(g.group_id), std::nullopt};
    if (g.topics) {
      q.tps.emplace();
      for (auto& t : *g.topics)
        for (int32_t p : t.partition_indexes) q.tps->push_back({t.name, p});
    }
    queries.push_back(std::move(q));
  }
  auto reply =
      on_connection(ctx, [ctx](protocol::offset_fetch_response resp) { ctx.respond(encode_response(ctx, resp)); });
  const bool stable = req.require_stable;
  ctx.broker.coordinators->run([queries = std::move(queries), stable, reply = std::move(reply)](
                                   engine::group_coordinator& c, const engine::coordinator_time&) mutable {
    protocol::offset_fetch_response resp;
    for (const auto& q : queries) resp.groups.push_back(answer(q, c.fetch_offsets(q.group_id, q.tps, stable)));
    reply(std::move(resp));
  });
  co_return;
}

}  // namespace server::kafka
