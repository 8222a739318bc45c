#include "engine/errc.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/protocol/create_partitions.h"

namespace server::kafka {

// CreatePartitions: topics grow, never shrink; the new partitions start empty. Replica
// assignments may only name this broker.
boost::asio::awaitable<void> handle_create_partitions(request_context ctx) {
  auto req = protocol::create_partitions_request::decode(ctx.body, ctx.header.api_version);
  auto& b = ctx.broker;
  protocol::create_partitions_response resp;
  using protocol::error_code;
  for (auto& t : req.topics) {
    auto& out = resp.results.emplace_back();
    out.name = t.name;
    auto refuse = [&](error_code e, std::string why) {
      out.error = e;
      out.error_message = std::move(why);
    };
    auto info = b.engine.find_topic(t.name);
    if (!info) {
      refuse(error_code::unknown_topic_or_partition, "topic '" + t.name + "' does not exist");
      continue;
    }
    if (t.count <= info->partitions) {
      refuse(error_code::invalid_partitions, "topic '" + t.name + "' has " + std::to_string(info->partitions) +
                                                 " partitions; a topic can only grow, and " + std::to_string(t.count) +
                                                 " is not more");
      continue;
    }
    if (t.count > engine::max_partitions_per_topic) {
      refuse(error_code::invalid_partitions,
             "at most " + std::to_string(engine::max_partitions_per_topic) + " partitions per topic");
      continue;
    }
    if (t.assignments) {
      bool bad = t.assignments->size() != static_cast<size_t>(t.count - info->partitions);
      for (auto& a : *t.assignments)
        for (auto id : a)
          if (id != b.node_id) bad = true;
      if (bad) {
        refuse(error_code::invalid_replica_assignment, "give one assignment per new partition, naming only broker " +
                                                           std::to_string(b.node_id) + " (kairo is a single node)");
        continue;
      }
    }
    if (req.validate_only) continue;
    auto job = [&b, &t] { return b.engine.create_partitions(t.name, t.count); };
    auto r = co_await run_blocking(b, job);
    if (!r) refuse(map_admin_error(r.error()), r.error().message());
  }
  ctx.respond(encode_response(ctx, resp));
}

}  // namespace server::kafka
