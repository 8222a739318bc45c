#pragma once
// The topic configuration kairo applies, where each value comes from, and which values it can
// take. DescribeConfigs reports exactly these; CreateTopics, AlterConfigs and
// IncrementalAlterConfigs accept a config only when kairo will do what it says: a broker that
// stored `cleanup.policy=compact` and never compacted would be lying to its operator.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/broker.h"
#include "engine/result.h"
#include "server/config.h"

namespace server::kafka {

// Where a value comes from, as DescribeConfigs v1+ reports it.
enum class config_origin : int8_t {
  topic = 1,                   // DYNAMIC_TOPIC_CONFIG: set on the topic
  dynamic_broker = 2,          // DYNAMIC_BROKER_CONFIG: changed live for this broker ("0")
  dynamic_default_broker = 3,  // DYNAMIC_DEFAULT_BROKER_CONFIG: changed live for the cluster ("")
  static_broker = 4,           // STATIC_BROKER_CONFIG: given to kairo serve (flag, environment, file)
  fixed = 5,                   // DEFAULT_CONFIG: kairo's built-in default, or what it always does
};

// DescribeConfigs' config types (v3+).
enum class config_type : int8_t { unknown = 0, boolean = 1, string = 2, integer = 3, long_integer = 5, list = 7 };

// One place a value is set, as DescribeConfigs' synonyms list them: highest precedence first.
struct config_synonym {
  std::string name;  // the topic config's own name, or the broker config it falls back to
  std::string value;
  config_origin origin = config_origin::fixed;
  friend bool operator==(const config_synonym&, const config_synonym&) = default;
};

// The broker configs an operator may change while kairo runs (AlterConfigs on the broker
// resource: "0" for this broker, "" for the cluster default), layered as Kafka layers them: this
// broker's change, else the cluster default's, else kairo serve's option, else the built-in
// default. The changes are kept in the topic catalog (log_manager::set_broker_configs), so a
// restart keeps them, and take effect at the next retention pass. Thread-safe.
class live_defaults {
 public:
  using stored = engine::log_manager::dynamic_broker_configs;
  using change_set = std::map<std::string, std::optional<std::string>>;  // nullopt: remove the change
  // Saves the next sets durably; nothing is applied when it fails.
  using persist_fn = std::function<engine::result<void>(const stored&)>;

  // `kept`: what the catalog holds from before the restart (changes that no longer check out,
  // e.g. a name a newer kairo wrote, are ignored).
  explicit live_defaults(const serve_config& c, stored kept = {});

  int64_t retention_ms() const;
  int64_t retention_bytes() const;
  // The layers of a live broker config ("log.retention.ms", "log.retention.bytes"), highest
  // precedence first; never empty (the built-in default is always there).
  std::vector<config_synonym> layers(const std::string& name) const;
  stored current() const;

  // Applies checked changes to this broker's set or the cluster default's (`cluster_default`).
  // `replace` (AlterConfigs): the resource's set becomes exactly the changes given, the rest
  // removed; otherwise (IncrementalAlterConfigs) each change is applied in turn. `persist` saves
  // the result first; concurrent calls apply one after the other.
  engine::result<void> alter(const change_set& changes, bool cluster_default, bool replace, const persist_fn& persist);

 private:
  int64_t effective(const std::string& name, int64_t flag_value) const;
  const serve_config& config_;
  std::mutex alter_mu_;    // one alter (persist, then publish) at a time
  mutable std::mutex mu_;  // guards sets_
  stored sets_;
};

struct topic_config_value {
  std::string name;
  std::string value;
  config_origin origin = config_origin::fixed;
  bool read_only = true;
  std::string doc;
  config_type type = config_type::string;
  std::vector<config_synonym> synonyms;  // synonyms.front() gives value and origin
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

// Broker configs DescribeConfigs reports, with their layers; the live ones may be altered. For
// this broker ("0"): every config, each with its whole chain of synonyms. For the cluster default
// (""), as Kafka: only the configs changed for the cluster default, each with that one layer.
using broker_config_value = topic_config_value;
std::vector<broker_config_value> broker_configs(const serve_config& c, const live_defaults& d,
                                                bool cluster_default = false);
// Empty when name=value can be applied to the broker live; otherwise why not.
std::optional<std::string> check_broker_config(const std::string& name, const std::optional<std::string>& value);

}  // namespace server::kafka
