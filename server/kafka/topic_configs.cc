#include "server/kafka/topic_configs.h"

namespace server::kafka {

std::vector<topic_config_value> effective_topic_configs(const serve_config& c) {
  return {
      {"cleanup.policy", "delete", "kairo never compacts"},
      {"retention.ms", "-1", "kairo keeps every record (no time-based retention yet)"},
      {"retention.bytes", "-1", "kairo keeps every record (no size-based retention yet)"},
      {"max.message.bytes", std::to_string(c.max_message_bytes), "largest RecordBatch accepted (--max-message-bytes)"},
      {"compression.type", "producer", "batches are stored and served as produced"},
      {"message.timestamp.type", "CreateTime", "timestamps are the producer's"},
      {"min.insync.replicas", "1", "single node: the one replica is the ISR"},
      {"unclean.leader.election.enable", "false", "single node"},
  };
}

std::optional<std::string> check_topic_config(const serve_config& c, const std::string& name,
                                              const std::optional<std::string>& value) {
  for (auto& e : effective_topic_configs(c)) {
    if (e.name != name) continue;
    if (!value || *value == e.value) return std::nullopt;
    return "kairo cannot apply " + name + "=" + *value + ": it always uses " + name + "=" + e.value + " (" + e.doc +
           ")";
  }
  return "kairo does not support the topic config '" + name + "'";
}

}  // namespace server::kafka
