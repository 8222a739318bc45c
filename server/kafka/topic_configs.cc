#include "server/kafka/topic_configs.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace server::kafka {
namespace {

// What kairo always does: a topic may name these only with this value.
struct fixed_config {
  const char* name;
  const char* broker_name;  // the broker config Kafka falls back to (its synonym)
  const char* value;
  config_type type;
  const char* doc;
};
constexpr fixed_config fixed_configs[] = {
    {"compression.type", "compression.type", "producer", config_type::string,
     "batches are stored and served as produced"},
    {"message.timestamp.type", "log.message.timestamp.type", "CreateTime", config_type::string,
     "timestamps are the producer's"},
    {"min.insync.replicas", "min.insync.replicas", "1", config_type::integer,
     "single node: the one replica is the ISR"},
    {"unclean.leader.election.enable", "unclean.leader.election.enable", "false", config_type::boolean, "single node"},
};

std::optional<int64_t> parse_long(const std::string& v) {
  try {
    size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used != v.size()) return std::nullopt;
    return x;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::string> check_long(const std::string& name, const std::string& v, int64_t min, int64_t max) {
  auto x = parse_long(v);
  if (!x || *x < min || *x > max)
    return name + "=" + v + " is not a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  return std::nullopt;
}

// The layers of a broker config that is only ever an option of kairo serve (or fixed): the
// option's value when it was given, then the built-in default.
std::vector<config_synonym> option_layers(const serve_config& c, const std::string& name, const std::string& option,
                                          const std::string& value) {
  if (option.empty() || !c.was_given(option)) return {{name, value, config_origin::fixed}};
  auto def = c.option_defaults.find(option);
  return {{name, value, config_origin::static_broker},
          {name, def != c.option_defaults.end() ? def->second : value, config_origin::fixed}};
}

topic_config_value from_layers(const std::string& name, std::vector<config_synonym> layers, bool read_only,
                               std::string doc, config_type type) {
  topic_config_value v{name, layers.front().value, layers.front().origin, read_only, std::move(doc), type, {}};
  v.synonyms = std::move(layers);
  return v;
}

}  // namespace

live_defaults::live_defaults(const serve_config& c, stored kept) : config_(c) {
  for (auto* set : {&kept.broker, &kept.cluster_default})
    for (auto it = set->begin(); it != set->end();) {
      if (check_broker_config(it->first, it->second)) it = set->erase(it);
      else ++it;
    }
  sets_ = std::move(kept);
}

int64_t live_defaults::effective(const std::string& name, int64_t flag_value) const {
  std::lock_guard lock(mu_);
  for (const auto* set : {&sets_.broker, &sets_.cluster_default})
    if (auto it = set->find(name); it != set->end())
      if (auto v = parse_long(it->second)) return *v;
  return flag_value;
}

int64_t live_defaults::retention_ms() const { return effective("log.retention.ms", config_.log_retention_ms); }
int64_t live_defaults::retention_bytes() const { return effective("log.retention.bytes", config_.log_retention_bytes); }

std::vector<config_synonym> live_defaults::layers(const std::string& name) const {
  std::vector<config_synonym> out;
  {
    std::lock_guard lock(mu_);
    if (auto it = sets_.broker.find(name); it != sets_.broker.end())
      out.push_back({name, it->second, config_origin::dynamic_broker});
    if (auto it = sets_.cluster_default.find(name); it != sets_.cluster_default.end())
      out.push_back({name, it->second, config_origin::dynamic_default_broker});
  }
  const bool ms = name == "log.retention.ms";
  const auto flag = std::to_string(ms ? config_.log_retention_ms : config_.log_retention_bytes);
  auto rest = option_layers(config_, name, ms ? "log-retention-ms" : "log-retention-bytes", flag);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

live_defaults::stored live_defaults::current() const {
  std::lock_guard lock(mu_);
  return sets_;
}

engine::result<void> live_defaults::alter(const change_set& changes, bool cluster_default, bool replace,
                                          const persist_fn& persist) {
  std::lock_guard one_at_a_time(alter_mu_);
  stored next = current();
  auto& set = cluster_default ? next.cluster_default : next.broker;
  if (replace) set.clear();
  for (const auto& [name, value] : changes) {
    if (value) set[name] = *value;
    else set.erase(name);
  }
  if (auto r = persist(next); !r) return r;
  std::lock_guard lock(mu_);
  sets_ = std::move(next);
  return {};
}

std::vector<topic_config_value> effective_topic_configs(const serve_config& c, const live_defaults& d,
                                                        const engine::topic_configs& topic) {
  std::vector<topic_config_value> out;
  // A topic config: the topic's own value when it has one, then its broker synonym's layers.
  // Read-only false, as Kafka reports every topic config: a request for a value kairo cannot
  // apply is refused with INVALID_CONFIG and says why.
  auto add = [&](const std::string& name, std::vector<config_synonym> broker, config_type type,
                 const std::string& doc) {
    if (auto it = topic.find(name); it != topic.end())
      broker.insert(broker.begin(), config_synonym{name, it->second, config_origin::topic});
    out.push_back(from_layers(name, std::move(broker), false, doc, type));
  };
  add("cleanup.policy", {{"log.cleanup.policy", "delete", config_origin::fixed}}, config_type::list,
      "delete: old records go by retention (kairo never compacts)");
  add("retention.ms", d.layers("log.retention.ms"), config_type::long_integer,
      "records older than this (by batch max timestamp) are deleted; -1 keeps them (--log-retention-ms)");
  add("retention.bytes", d.layers("log.retention.bytes"), config_type::long_integer,
      "a partition keeps at most this many bytes, the oldest batches go first; -1: no limit "
      "(--log-retention-bytes)");
  add("max.message.bytes",
      option_layers(c, "message.max.bytes", "max-message-bytes", std::to_string(c.max_message_bytes)),
      config_type::integer, "largest RecordBatch accepted (--max-message-bytes)");
  for (const auto& f : fixed_configs) add(f.name, {{f.broker_name, f.value, config_origin::fixed}}, f.type, f.doc);
  return out;
}

std::optional<std::string> check_topic_config(const serve_config& c, const std::string& name,
                                              const std::optional<std::string>& value) {
  if (!value) return std::nullopt;  // back to the broker's value
  const std::string& v = *value;
  if (name == "retention.ms" || name == "retention.bytes")
    return check_long(name, v, -1, std::numeric_limits<int64_t>::max());
  if (name == "max.message.bytes")
    return check_long(name, v, 0, std::min<int64_t>(c.max_request_bytes, std::numeric_limits<int32_t>::max()));
  if (name == "cleanup.policy") {
    if (v == "delete") return std::nullopt;
    return "kairo cannot apply cleanup.policy=" + v + ": it deletes by retention and never compacts";
  }
  for (const auto& f : fixed_configs) {
    if (name != f.name) continue;
    if (v == f.value) return std::nullopt;
    return "kairo cannot apply " + name + "=" + v + ": it always uses " + name + "=" + f.value + " (" + f.doc + ")";
  }
  return "kairo does not support the topic config '" + name + "'";
}

engine::log_manager::retention_policy retention_of(const live_defaults& d, const engine::topic_configs& topic) {
  engine::log_manager::retention_policy p{d.retention_ms(), d.retention_bytes()};
  if (auto it = topic.find("retention.ms"); it != topic.end())
    if (auto v = parse_long(it->second)) p.retention_ms = *v;
  if (auto it = topic.find("retention.bytes"); it != topic.end())
    if (auto v = parse_long(it->second)) p.retention_bytes = *v;
  return p;
}

std::vector<broker_config_value> broker_configs(const serve_config& c, const live_defaults& d, bool cluster_default) {
  std::vector<broker_config_value> out;
  auto live = [&](const std::string& name, const std::string& doc) {
    auto layers = d.layers(name);
    if (cluster_default) {
      std::erase_if(layers, [](const config_synonym& s) { return s.origin != config_origin::dynamic_default_broker; });
      if (layers.empty()) return;  // not changed for the cluster: not listed
    }
    out.push_back(from_layers(name, std::move(layers), false, doc, config_type::long_integer));
  };
  live("log.retention.ms", "default retention.ms of topics that set none (--log-retention-ms)");
  live("log.retention.bytes", "default retention.bytes of topics that set none (--log-retention-bytes)");
  if (cluster_default) return out;
  auto option = [&](const std::string& name, const std::string& opt, const std::string& value, config_type type,
                    const std::string& doc) {
    out.push_back(from_layers(name, option_layers(c, name, opt, value), true, doc, type));
  };
  option("log.retention.check.interval.ms", "log-retention-check-interval-ms",
         std::to_string(c.log_retention_check_interval_ms), config_type::long_integer,
         "how often retention runs (--log-retention-check-interval-ms)");
  option("num.partitions", "default-partitions", std::to_string(c.default_partitions), config_type::integer,
         "partitions of auto-created topics (--default-partitions)");
  option("auto.create.topics.enable", "auto-create-topics", c.auto_create_topics ? "true" : "false",
         config_type::boolean, "--auto-create-topics");
  option("message.max.bytes", "max-message-bytes", std::to_string(c.max_message_bytes), config_type::integer,
         "--max-message-bytes");
  option("socket.request.max.bytes", "max-request-bytes", std::to_string(c.max_request_bytes), config_type::integer,
         "--max-request-bytes");
  option("log.dirs", "data-dir", c.data_dir, config_type::string, "--data-dir");
  option("log.segment.bytes", "wal-segment-bytes", std::to_string(c.wal_segment_bytes), config_type::integer,
         "largest WAL segment (--wal-segment-bytes)");
  option("default.replication.factor", "", "1", config_type::integer, "single node");
  return out;
}

std::optional<std::string> check_broker_config(const std::string& name, const std::optional<std::string>& value) {
  if (name == "log.retention.ms" || name == "log.retention.bytes") {
    if (!value) return std::nullopt;
    return check_long(name, *value, -1, std::numeric_limits<int64_t>::max());
  }
  return "kairo cannot change the broker config '" + name +
         "' while it runs (live: log.retention.ms, log.retention.bytes; the rest are kairo serve flags)";
}

}  // namespace server::kafka
