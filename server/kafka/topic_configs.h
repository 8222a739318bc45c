#pragma once
// The topic configuration kairo applies, where each value comes from, and which values it can
// take. DescribeConfigs reports exactly these; CreateTopics, AlterConfigs and
// IncrementalAlterConfigs accept a config only when kairo will do what it says: a broker that
// stored `cleanup.policy=compact` and never compacted would be lying to its operator.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/broker.h"
#include "server/config.h"

namespace server::kafka {

// Broker defaults an operator may change while kairo runs (AlterConfigs on the broker
// resource): they take effect at the next retention pass. Not kept across a restart: the flags
// (or config file) say what a restart starts with. Thread-safe.
struct live_defaults {
  explicit live_defaults(const serve_config& c)
      : log_retention_ms(c.log_retention_ms), log_retention_bytes(c.log_retention_bytes) {}
  std::atomic<int64_t> log_retention_ms;
  std::atomic<int64_t> log_retention_bytes;
  // Where the live values come from: the flags, or a change over AlterConfigs for this broker
  // (resource name "0") or for the cluster default (resource name "").
  std::atomic<int8_t> retention_ms_origin{4};
  std::atomic<int8_t> retention_bytes_origin{4};
};

// Where a value comes from, as DescribeConfigs v1+ reports it.
enum class config_origin : int8_t {
  topic = 1,                   // DYNAMIC_TOPIC_CONFIG: set on the topic
  dynamic_broker = 2,          // DYNAMIC_BROKER_CONFIG: changed live for this broker ("0")
  dynamic_default_broker = 3,  // DYNAMIC_DEFAULT_BROKER_CONFIG: changed live for the cluster ("")
  static_broker = 4,           // STATIC_BROKER_CONFIG: kairo serve's flag or config file
  fixed = 5,                   // DEFAULT_CONFIG: what kairo always does
};

struct topic_config_value {
  std::string name;
  std::string value;
  config_origin origin = config_origin::fixed;
  bool read_only = true;
  std::string doc;
};

// Every config of `topic` with its effective value and origin.
std::vector<topic_config_value> effective_topic_configs(const serve_config& c, const live_defaults& d,
                                                        const engine::topic_configs& topic);

// Empty when kairo can honour name=value on a topic; otherwise what is wrong, in words (the
// client gets it with INVALID_CONFIG). A value is checked for its type and range.
std::optional<std::string> check_topic_config(const serve_config& c, const std::string& name,
                                              const std::optional<std::string>& value);

// The retention a topic's partitions get: its own retention.ms / retention.bytes, else the
// broker's live defaults.
engine::log_manager::retention_policy retention_of(const live_defaults& d, const engine::topic_configs& topic);

// Broker configs DescribeConfigs reports, with their origin; the live ones may be altered.
struct broker_config_value {
  std::string name;
  std::string value;
  config_origin origin = config_origin::static_broker;
  bool read_only = true;
  std::string doc;
};
std::vector<broker_config_value> broker_configs(const serve_config& c, const live_defaults& d);
// Empty when name=value can be applied to the broker live; otherwise why not.
std::optional<std::string> check_broker_config(const std::string& name, const std::optional<std::string>& value);
// Applies a checked broker config (value nullopt: back to the static default), for this broker
// (`cluster_default` false: AlterConfigs named "0") or the cluster default (resource name "").
void apply_broker_config(const serve_config& c, live_defaults& d, const std::string& name,
                         const std::optional<std::string>& value, bool cluster_default = false);

}  // namespace server::kafka
