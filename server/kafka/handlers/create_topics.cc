#include "engine/errc.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/topic_configs.h"
#include "server/protocol/create_topics.h"

namespace server::kafka {
namespace {

using protocol::error_code;

// Checks one requested topic; fills `out` with the refusal when there is one.
bool acceptable(const broker_context& b, const protocol::create_topics_request::topic& t,
                protocol::create_topics_response::topic& out) {
  auto refuse = [&](error_code e, std::string msg) {
    out.error = e;
    out.error_message = std::move(msg);
    return false;
  };
  if (t.replication_factor != -1 && t.replication_factor != 1)
    return refuse(error_code::invalid_replication_factor,
                  "replication factor " + std::to_string(t.replication_factor) +
                      " needs that many brokers; kairo is a single node (use 1 or -1)");
  if (!t.assignments.empty()) {
    for (auto& a : t.assignments)
      for (auto id : a.broker_ids)
        if (id != b.node_id)
          return refuse(error_code::invalid_request, "replica assignment names broker " + std::to_string(id) +
                                                         "; the only broker is " + std::to_string(b.node_id));
    if (t.num_partitions != -1)
      return refuse(error_code::invalid_request, "give either num_partitions or a replica assignment, not both");
  }
  for (auto& c : t.configs)
    if (auto why = check_topic_config(b.config, c.name, c.value)) return refuse(error_code::invalid_config, *why);
  return true;
}

}  // namespace

boost::asio::awaitable<void> handle_create_topics(request_context ctx) {
  auto req = protocol::create_topics_request::decode(ctx.body, ctx.header.api_version);
  auto& b = ctx.broker;
  protocol::create_topics_response resp;
  for (auto& t : req.topics) {
    auto& out = resp.topics.emplace_back();
    out.name = t.name;
    if (!acceptable(b, t, out)) continue;
    int32_t partitions = t.num_partitions;
    if (!t.assignments.empty()) partitions = static_cast<int32_t>(t.assignments.size());
    if (partitions == -1) partitions = b.config.default_partitions;
    engine::topic_configs configs;
    for (auto& c : t.configs)
      if (c.value) configs[c.name] = *c.value;
    if (req.validate_only) {
      if (b.engine.find_topic(t.name)) {
        out.error = error_code::topic_already_exists;
        out.error_message = "topic '" + t.name + "' already exists";
      } else if (partitions < 1) {
        out.error = error_code::invalid_partitions;
        out.error_message = "number of partitions must be at least 1";
      }
      out.num_partitions = partitions;
      out.replication_factor = 1;
      continue;
    }
    auto job = [&b, &t, partitions, &configs] { return b.engine.create_topic(t.name, partitions, configs); };
    auto created = co_await run_blocking(b, job);
    if (!created) {
      out.error = map_admin_error(created.error());
      out.error_message = created.error() == engine::errc::topic_already_exists
                              ? "topic '" + t.name + "' already exists"
                              : created.error().message();
      continue;
    }
    out.topic_id = created->id;
    out.num_partitions = created->partitions;
    out.replication_factor = 1;
  }
  ctx.respond(encode_response(ctx, resp));
}

}  // namespace server::kafka
