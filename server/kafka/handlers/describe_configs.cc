#include <algorithm>

#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/topic_configs.h"
#include "server/protocol/describe_configs.h"

namespace server::kafka {
namespace {

using protocol::describe_configs_response;

bool wanted(const std::optional<std::vector<std::string>>& keys, const std::string& name) {
  return !keys || std::find(keys->begin(), keys->end(), name) != keys->end();
}

describe_configs_response::config make(const topic_config_value& e, bool synonyms, bool docs) {
  describe_configs_response::config c;
  c.name = e.name;
  c.value = e.value;
  c.read_only = e.read_only;
  c.is_default = e.origin == config_origin::fixed;  // v0
  c.config_source = static_cast<int8_t>(e.origin);
  c.config_type = static_cast<int8_t>(e.type);
  if (synonyms)
    for (const auto& s : e.synonyms) c.synonyms.push_back({s.name, s.value, static_cast<int8_t>(s.origin)});
  if (docs) c.documentation = e.doc;
  return c;
}

}  // namespace

boost::asio::awaitable<void> handle_describe_configs(request_context ctx) {
  auto req = protocol::describe_configs_request::decode(ctx.body, ctx.header.api_version);
  auto& b = ctx.broker;
  const live_defaults fallback(b.config);
  const live_defaults& defaults = b.defaults ? *b.defaults : fallback;
  describe_configs_response resp;
  for (auto& res : req.resources) {
    auto& out = resp.results.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    if (res.resource_type == protocol::config_resource_topic) {
      auto info = b.engine.find_topic(res.resource_name);
      if (!info) {
        out.error = protocol::error_code::unknown_topic_or_partition;
        out.error_message = "topic '" + res.resource_name + "' does not exist";
        continue;
      }
      for (auto& e : effective_topic_configs(b.config, defaults, info->configs))
        if (wanted(res.configuration_keys, e.name))
          out.configs.push_back(make(e, req.include_synonyms, req.include_documentation));
    } else if (res.resource_type == protocol::config_resource_broker) {
      if (!res.resource_name.empty() && res.resource_name != std::to_string(b.node_id)) {
        out.error = protocol::error_code::invalid_request;
        out.error_message = "the only broker is " + std::to_string(b.node_id);
        continue;
      }
      // "" is the cluster default: only what was changed for it, as Kafka describes it.
      for (auto& e : broker_configs(b.config, defaults, res.resource_name.empty()))
        if (wanted(res.configuration_keys, e.name))
          out.configs.push_back(make(e, req.include_synonyms, req.include_documentation));
    } else {
      out.error = protocol::error_code::invalid_request;
      out.error_message = "kairo describes topic (2) and broker (4) resources only";
    }
  }
  ctx.respond(encode_response(ctx, resp));
  co_return;
}

}  // namespace server::kafka
