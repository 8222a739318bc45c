#include "server/kafka/topic_configs.h"

#include <limits>
#include <stdexcept>

namespace server::kafka {
namespace {

// What kairo always does: a topic may name these only with this value.
struct fixed_config {
  const char* name;
  const char* value;
  const char* doc;
};
constexpr fixed_config fixed_configs[] = {
    {"compression.type", "producer", "batches are stored and served as produced"},
    {"message.timestamp.type", "CreateTime", "timestamps are the producer's"},
    {"min.insync.replicas", "1", "single node: the one replica is the ISR"},
    {"unclean.leader.election.enable", "false", "single node"},
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

}  // namespace

std::vector<topic_config_value> effective_topic_configs(const serve_config& c, const live_defaults& d,
                                                        const engine::topic_configs& topic) {
  std::vector<topic_config_value> out;
  auto settable = [&](const std::string& name, const std::string& broker_value, config_origin broker_origin,
                      const std::string& doc) {
    if (auto it = topic.find(name); it != topic.end())
      out.push_back({name, it->second, config_origin::topic, false, doc});
    else out.push_back({name, broker_value, broker_origin, false, doc});
  };
  settable("cleanup.policy", "delete", config_origin::fixed,
           "delete: old records go by retention (kairo never compacts)");
  settable("retention.ms", std::to_string(d.log_retention_ms.load()),
           static_cast<config_origin>(d.retention_ms_origin.load()),
           "records older than this (by batch max timestamp) are deleted; -1 keeps them (--log-retention-ms)");
  settable("retention.bytes", std::to_string(d.log_retention_bytes.load()),
           static_cast<config_origin>(d.retention_bytes_origin.load()),
           "a partition keeps at most this many bytes, the oldest batches go first; -1: no limit "
           "(--log-retention-bytes)");
  settable("max.message.bytes", std::to_string(c.max_message_bytes), config_origin::static_broker,
           "largest RecordBatch accepted (--max-message-bytes)");
  // Read-only false, as Kafka reports every topic config: a request for another value is refused
  // with INVALID_CONFIG and says why.
  for (const auto& f : fixed_configs) out.push_back({f.name, f.value, config_origin::fixed, false, f.doc});
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
  engine::log_manager::retention_policy p{d.log_retention_ms.load(), d.log_retention_bytes.load()};
  if (auto it = topic.find("retention.ms"); it != topic.end())
    if (auto v = parse_long(it->second)) p.retention_ms = *v;
  if (auto it = topic.find("retention.bytes"); it != topic.end())
    if (auto v = parse_long(it->second)) p.retention_bytes = *v;
  return p;
}

std::vector<broker_config_value> broker_configs(const serve_config& c, const live_defaults& d) {
  const auto origin = [](int8_t o) { return static_cast<config_origin>(o); };
  return {
      {"log.retention.ms", std::to_string(d.log_retention_ms.load()), origin(d.retention_ms_origin.load()), false,
       "default retention.ms of topics that set none (--log-retention-ms)"},
      {"log.retention.bytes", std::to_string(d.log_retention_bytes.load()), origin(d.retention_bytes_origin.load()),
       false, "default retention.bytes of topics that set none (--log-retention-bytes)"},
      {"log.retention.check.interval.ms", std::to_string(c.log_retention_check_interval_ms),
       config_origin::static_broker, true, "how often retention runs (--log-retention-check-interval-ms)"},
      {"num.partitions", std::to_string(c.default_partitions), config_origin::static_broker, true,
       "partitions of auto-created topics (--default-partitions)"},
      {"auto.create.topics.enable", c.auto_create_topics ? "true" : "false", config_origin::static_broker, true,
       "--auto-create-topics"},
      {"message.max.bytes", std::to_string(c.max_message_bytes), config_origin::static_broker, true,
       "--max-message-bytes"},
      {"socket.request.max.bytes", std::to_string(c.max_request_bytes), config_origin::static_broker, true,
       "--max-request-bytes"},
      {"log.dirs", c.data_dir, config_origin::static_broker, true, "--data-dir"},
      {"log.segment.bytes", std::to_string(c.wal_segment_bytes), config_origin::static_broker, true,
       "largest WAL segment (--wal-segment-bytes)"},
      {"default.replication.factor", "1", config_origin::fixed, true, "single node"},
  };
}

std::optional<std::string> check_broker_config(const std::string& name, const std::optional<std::string>& value) {
  if (name == "log.retention.ms" || name == "log.retention.bytes") {
    if (!value) return std::nullopt;
    return check_long(name, *value, -1, std::numeric_limits<int64_t>::max());
  }
  return "kairo cannot change the broker config '" + name +
         "' while it runs (live: log.retention.ms, log.retention.bytes; the rest are kairo serve flags)";
}

void apply_broker_config(const serve_config& c, live_defaults& d, const std::string& name,
                         const std::optional<std::string>& value, bool cluster_default) {
  const auto origin = static_cast<int8_t>(!value            ? config_origin::static_broker
                                          : cluster_default ? config_origin::dynamic_default_broker
                                                            : config_origin::dynamic_broker);
  if (name == "log.retention.ms") {
    d.log_retention_ms = value ? *parse_long(*value) : c.log_retention_ms;
    d.retention_ms_origin = origin;
  } else if (name == "log.retention.bytes") {
    d.log_retention_bytes = value ? *parse_long(*value) : c.log_retention_bytes;
    d.retention_bytes_origin = origin;
  }
}

}  // namespace server::kafka
