#pragma once
// The topic configuration kairo actually applies. DescribeConfigs reports exactly these, and
// CreateTopics accepts a config only when it asks for what kairo does anyway: a broker that
// stored `retention.ms=3600000` and kept data forever would be lying to its operator.
#include <optional>
#include <string>
#include <vector>

#include "server/config.h"

namespace server::kafka {

struct topic_config_value {
  std::string name;
  std::string value;
  std::string doc;
};

std::vector<topic_config_value> effective_topic_configs(const serve_config& c);

// Empty when kairo can honour name=value for a new topic; otherwise what is wrong, in words.
std::optional<std::string> check_topic_config(const serve_config& c, const std::string& name,
                                              const std::optional<std::string>& value);

}  // namespace server::kafka
