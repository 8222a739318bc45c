#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/protocol/metadata.h"

namespace server::kafka {
namespace {

protocol::metadata_response::topic describe(const broker_context& b, const engine::topic_info& t) {
  protocol::metadata_response::topic out;
  out.name = t.name;
  out.topic_id = t.id;
  for (int32_t p = 0; p < t.partitions; ++p) {
    protocol::metadata_response::partition part;
    part.partition_index = p;
    part.leader_id = b.node_id;
    part.leader_epoch = 0;
    part.replica_nodes = {b.node_id};
    part.isr_nodes = {b.node_id};
    out.partitions.push_back(std::move(part));
  }
  return out;
}

}  // namespace

boost::asio::awaitable<void> handle_metadata(request_context ctx) {
  auto req = protocol::metadata_request::decode(ctx.body, ctx.header.api_version);
  auto& b = ctx.broker;
  protocol::metadata_response resp;
  const auto adv = b.config.advertised_or_listen();
  resp.brokers.push_back({b.node_id, adv.host, adv.port, std::nullopt});
  resp.cluster_id = b.cluster_id;
  resp.controller_id = b.node_id;

  if (!req.topics) {
    for (auto& t : b.engine.list_topics()) resp.topics.push_back(describe(b, t));
  } else {
    // v0-v3 clients cannot ask not to create; from v4 the request says.
    const bool may_create = ctx.header.api_version < 4 || req.allow_auto_topic_creation;
    for (auto& wanted : *req.topics) {
      if (!wanted.name) {
        // Lookup by id alone (v10+).
        bool found = false;
        for (auto& t : b.engine.list_topics())
          if (t.id == wanted.topic_id) {
            resp.topics.push_back(describe(b, t));
            found = true;
          }
        if (!found) {
          protocol::metadata_response::topic miss;
          miss.error = protocol::error_code::unknown_topic_id;
          miss.topic_id = wanted.topic_id;
          resp.topics.push_back(std::move(miss));
        }
        continue;
      }
      const std::string& name = *wanted.name;
      auto t = b.engine.find_topic(name);
      if (!t && may_create) {  // the engine creates it if auto-creation is on
        auto job = [&b, &name] { return b.engine.ensure_topic(name); };
        auto created = co_await run_blocking(b, job);
        if (created) t = *created;
        else {
          protocol::metadata_response::topic miss;
          miss.name = name;
          miss.error = map_data_error(created.error());
          resp.topics.push_back(std::move(miss));
          continue;
        }
      }
      if (t) {
        resp.topics.push_back(describe(b, *t));
      } else {
        protocol::metadata_response::topic miss;
        miss.name = name;
        miss.error = protocol::error_code::unknown_topic_or_partition;
        resp.topics.push_back(std::move(miss));
      }
    }
  }
  ctx.respond(encode_response(ctx, resp));
}

}  // namespace server::kafka
