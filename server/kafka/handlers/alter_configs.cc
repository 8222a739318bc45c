#include <map>

#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/kafka/topic_configs.h"
#include "server/protocol/alter_configs.h"
#include "server/protocol/describe_configs.h"

namespace server::kafka {
namespace {

using protocol::error_code;

// A config change: a new value, or nullopt to go back to the default.
using change_set = std::map<std::string, std::optional<std::string>>;

struct refusal {
  error_code error = error_code::none;
  std::string message;
};

// The requested changes of one resource, checked: AlterConfigs replaces every config of the
// resource (what it leaves out goes back to its default), IncrementalAlterConfigs applies SET and
// DELETE one by one (APPEND and SUBTRACT need list-valued configs, and kairo has none to change).
// As Kafka: a key named twice, or a value missing where one is needed, refuses the resource
// with INVALID_REQUEST before anything is applied.
std::optional<refusal> changes_of(const protocol::alter_configs_request::resource& res, bool incremental,
                                  change_set& out) {
  for (const auto& e : res.configs) {
    if (out.contains(e.name)) return refusal{error_code::invalid_request, "Error due to duplicate config keys"};
    const bool deletes = incremental && e.operation == protocol::config_op_delete;
    if (!e.value && !deletes) return refusal{error_code::invalid_request, "Null value not supported for : " + e.name};
    if (!incremental) {
      out[e.name] = e.value;
      continue;
    }
    switch (e.operation) {
      case protocol::config_op_set: out[e.name] = e.value; break;
      case protocol::config_op_delete: out[e.name] = std::nullopt; break;
      case protocol::config_op_append:
      case protocol::config_op_subtract:
        return refusal{error_code::invalid_config,
                       "APPEND and SUBTRACT need a list config; " + e.name + " is not one kairo can change that way"};
      default: return refusal{error_code::invalid_request, "unknown config operation " + std::to_string(e.operation)};
    }
  }
  return std::nullopt;
}

boost::asio::awaitable<void> alter(request_context ctx, bool incremental) {
  auto req = protocol::alter_configs_request::decode(ctx.body, ctx.header.api_version, incremental);
  auto& b = ctx.broker;
  protocol::alter_configs_response resp;
  resp.incremental = incremental;
  // Kafka refuses every occurrence of a resource named more than once.
  std::map<std::pair<int8_t, std::string>, int> seen;
  for (const auto& res : req.resources) ++seen[{res.resource_type, res.resource_name}];
  for (const auto& res : req.resources) {
    auto& out = resp.responses.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    auto refuse = [&](error_code e, std::string why) {
      out.error = e;
      out.error_message = std::move(why);
    };
    if (seen[{res.resource_type, res.resource_name}] > 1) {
      refuse(error_code::invalid_request, "Each resource must appear at most once.");
      continue;
    }
    change_set changes;
    if (auto r = changes_of(res, incremental, changes)) {
      refuse(r->error, r->message);
      continue;
    }
    if (res.resource_type == protocol::config_resource_topic) {
      auto info = b.engine.find_topic(res.resource_name);
      if (!info) {
        refuse(error_code::unknown_topic_or_partition, "topic '" + res.resource_name + "' does not exist");
        continue;
      }
      std::optional<std::string> why;
      for (const auto& [name, value] : changes)
        if ((why = check_topic_config(b.config, name, value))) break;
      if (why) {
        refuse(error_code::invalid_config, *why);
        continue;
      }
      engine::topic_configs next = incremental ? info->configs : engine::topic_configs{};
      for (const auto& [name, value] : changes) {
        if (value) next[name] = *value;
        else next.erase(name);
      }
      if (req.validate_only) continue;
      auto job = [&b, &res, &next] { return b.engine.set_topic_configs(res.resource_name, next); };
      auto r = co_await run_blocking(b, job);
      if (!r) refuse(map_admin_error(r.error()), r.error().message());
    } else if (res.resource_type == protocol::config_resource_broker) {
      if (!res.resource_name.empty() && res.resource_name != std::to_string(b.node_id)) {
        refuse(error_code::invalid_request, "the only broker is " + std::to_string(b.node_id));
        continue;
      }
      std::optional<std::string> why;
      for (const auto& [name, value] : changes)
        if ((why = check_broker_config(name, value))) break;
      if (why) {
        refuse(error_code::invalid_config, *why);
        continue;
      }
      if (req.validate_only || !b.defaults) continue;
      // AlterConfigs replaces the resource's live set: what it leaves out goes back to the next
      // layer (the cluster default, kairo serve's option, the built-in default). Kept across
      // restarts in the topic catalog, saved before it takes effect.
      auto job = [&b, &changes, &res, incremental] {
        return b.defaults->alter(changes, res.resource_name.empty(), !incremental,
                                 [&b](const live_defaults::stored& next) { return b.engine.set_broker_configs(next); });
      };
      auto r = co_await run_blocking(b, job);
      if (!r) refuse(map_admin_error(r.error()), r.error().message());
    } else {
      refuse(error_code::invalid_request, "kairo configures topic (2) and broker (4) resources only");
    }
  }
  ctx.respond(encode_response(ctx, resp));
}

}  // namespace

boost::asio::awaitable<void> handle_alter_configs(request_context ctx) { return alter(std::move(ctx), false); }

boost::asio::awaitable<void> handle_incremental_alter_configs(request_context ctx) {
  return alter(std::move(ctx), true);
}

}  // namespace server::kafka
