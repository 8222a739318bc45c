#pragma once
// Settings of `kairo serve`, from (highest precedence first) flags, KAIRO_* environment
// variables, an optional config file of `key = value` lines, and built-in defaults.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "engine/group_coordinator.h"
#include "engine/produce_policy.h"
#include "engine/txn_coordinator.h"

namespace server {

struct endpoint {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

// Parses "host:port" (host may be empty for 0.0.0.0, or [v6]); throws std::invalid_argument
// with a message naming `what` when it does not parse.
endpoint parse_endpoint(const std::string& s, const std::string& what);

struct serve_config {
  endpoint listen{"127.0.0.1", 9092};
  std::optional<endpoint> advertised;  // defaults to listen
  endpoint admin_listen{"127.0.0.1", 9644};
  std::string data_dir = "./data";
  int32_t default_partitions = 3;
  bool auto_create_topics = true;
  uint32_t max_request_bytes = 100u << 20;
  size_t max_connections = 20000;                           // max.connections
  size_t max_connections_per_ip = 10000;                    // max.connections.per.ip
  std::chrono::milliseconds connections_max_idle{600'000};  // connections.max.idle.ms
  std::chrono::milliseconds request_read_timeout{30'000};   // a request frame must keep arriving
  uint64_t max_buffered_request_bytes = 512u << 20;         // all partly read frames together
  uint32_t max_message_bytes = 1u << 20;
  unsigned io_threads = 0;  // 0: one per core
  std::string log_level = "info";
  std::string log_format = "text";  // or journal

  // The produce pipeline: a profile, optionally with explicit knobs that override it.
  engine::profile produce_profile = engine::profile::auto_tuned;
  std::optional<uint32_t> min_batches;
  std::optional<double> linger_ms;
  std::optional<uint64_t> buffer_bytes;
  // EXPERIMENT ONLY: added after every real fdatasync to stand in for slower storage.
  engine::simulated_sync_delay simulated_sync_delay;
  bool wal_preallocate = false;
  bool wal_commit_on_io_thread = true;  // produce: an idle log's group is committed by the io thread
  uint64_t wal_segment_bytes = 256u << 20;
  std::string storage_class = "native";  // the name given (native, cloud, hdd, or the value)

  // The group and transaction coordinators: Kafka's broker settings of the same names.
  engine::group_config groups;
  engine::txn_config txns;
  int64_t producer_id_expiration_ms = 86'400'000;
  // Retention: broker defaults for topics that set no retention.ms / retention.bytes (-1: keep).
  int64_t log_retention_ms = 604'800'000;             // log.retention.ms, 7 days
  int64_t log_retention_bytes = -1;                   // log.retention.bytes
  int64_t log_retention_check_interval_ms = 300'000;  // log.retention.check.interval.ms

  // The options given on the command line, in the environment or in the config file (long
  // names, e.g. "log-retention-ms"); the rest are at their built-in defaults. DescribeConfigs
  // tells STATIC_BROKER_CONFIG from DEFAULT_CONFIG by it.
  std::set<std::string> given;
  bool was_given(const std::string& option) const { return given.contains(option); }
  // Each option's built-in default as kairo serve's help shows it (empty when parsed elsewhere).
  std::map<std::string, std::string> option_defaults;

  // The profile's policy with the explicit knobs applied; `custom` when any knob is given.
  std::pair<engine::profile, engine::produce_policy> initial_policy() const;

  endpoint advertised_or_listen() const { return advertised ? *advertised : listen; }
};

// Parses a simulated sync delay: native (off), cloud (1ms±20%), hdd (5ms±20%), or a duration with
// an optional spread: "800us", "2ms", "1ms±20%", "1ms+-20%". Throws std::invalid_argument.
engine::simulated_sync_delay parse_sync_delay(const std::string& s);

// Parses `kairo serve` arguments. Returns nullopt after printing help when --help was given.
// Throws std::invalid_argument with a user-facing message on bad input.
std::optional<serve_config> parse_serve_args(int argc, const char* const* argv);

}  // namespace server
