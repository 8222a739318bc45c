#pragma once

// The APIs this codec speaks and their version ranges. The server's api table builds both the
// ApiVersions answer and dispatch from `supported_apis`, so a version is advertised exactly
// when it can be decoded.

#include <array>
#include <cstdint>
#include <string_view>

namespace server::protocol {

enum class api_key : std::int16_t {
  produce = 0,
  fetch = 1,
  list_offsets = 2,
  metadata = 3,
  offset_commit = 8,
  offset_fetch = 9,
  find_coordinator = 10,
  join_group = 11,
  heartbeat = 12,
  leave_group = 13,
  sync_group = 14,
  describe_groups = 15,
  list_groups = 16,
  api_versions = 18,
  create_topics = 19,
  delete_topics = 20,
  delete_records = 21,
  init_producer_id = 22,
  add_partitions_to_txn = 24,
  add_offsets_to_txn = 25,
  end_txn = 26,
  txn_offset_commit = 28,
  describe_configs = 32,
  alter_configs = 33,
  create_partitions = 37,
  delete_groups = 42,
  incremental_alter_configs = 44,
  offset_delete = 47,
  describe_producers = 61,
  describe_transactions = 65,
  list_transactions = 66,
};

struct api_info {
  api_key key;
  std::string_view name;
  std::int16_t min_version;
  std::int16_t max_version;
  // First version using compact encodings, tagged fields and request header v2.
  std::int16_t first_flexible_version;
};

// Ranges cover what librdkafka 2.0 and kafka-python 2.0 ask for. Produce starts at 3 because
// v3 is the first to carry record batches (magic 2), the only format the broker stores.
// Fetch starts at 4 for the same reason on the way out.
// The group APIs cover what librdkafka 2.0, kafka-python 2.0, kafkajs 2.2, Sarama and
// @platformatic/kafka send (docs/kafka-api.md lists who sends which). OffsetDelete is never
// flexible: its first_flexible_version is out of reach.
inline constexpr std::array<api_info, 31> supported_apis{{
    {api_key::produce, "Produce", 3, 9, 9},
    {api_key::fetch, "Fetch", 4, 17, 12},
    {api_key::list_offsets, "ListOffsets", 0, 7, 6},
    {api_key::metadata, "Metadata", 0, 12, 9},
    {api_key::offset_commit, "OffsetCommit", 0, 8, 8},
    {api_key::offset_fetch, "OffsetFetch", 0, 8, 6},
    {api_key::find_coordinator, "FindCoordinator", 0, 4, 3},
    {api_key::join_group, "JoinGroup", 0, 9, 6},
    {api_key::heartbeat, "Heartbeat", 0, 4, 4},
    {api_key::leave_group, "LeaveGroup", 0, 5, 4},
    {api_key::sync_group, "SyncGroup", 0, 5, 4},
    {api_key::describe_groups, "DescribeGroups", 0, 5, 5},
    {api_key::list_groups, "ListGroups", 0, 4, 3},
    {api_key::api_versions, "ApiVersions", 0, 3, 3},
    {api_key::create_topics, "CreateTopics", 0, 7, 5},
    {api_key::delete_topics, "DeleteTopics", 0, 6, 4},
    {api_key::delete_records, "DeleteRecords", 0, 2, 2},
    {api_key::init_producer_id, "InitProducerId", 0, 4, 2},
    {api_key::add_partitions_to_txn, "AddPartitionsToTxn", 0, 3, 3},
    {api_key::add_offsets_to_txn, "AddOffsetsToTxn", 0, 3, 3},
    {api_key::end_txn, "EndTxn", 0, 3, 3},
    {api_key::txn_offset_commit, "TxnOffsetCommit", 0, 3, 3},
    {api_key::describe_configs, "DescribeConfigs", 0, 4, 4},
    {api_key::alter_configs, "AlterConfigs", 0, 2, 2},
    {api_key::create_partitions, "CreatePartitions", 0, 3, 2},
    {api_key::delete_groups, "DeleteGroups", 0, 2, 2},
    {api_key::incremental_alter_configs, "IncrementalAlterConfigs", 0, 1, 1},
    {api_key::offset_delete, "OffsetDelete", 0, 0, 32767},
    {api_key::describe_producers, "DescribeProducers", 0, 0, 0},
    {api_key::describe_transactions, "DescribeTransactions", 0, 0, 0},
    {api_key::list_transactions, "ListTransactions", 0, 1, 0},
}};

// nullptr for an API this codec does not know.
constexpr const api_info* find_api(std::int16_t key) {
  for (const auto& api : supported_apis) {
    if (static_cast<std::int16_t>(api.key) == key) return &api;
  }
  return nullptr;
}

constexpr const api_info& api(api_key key) { return *find_api(static_cast<std::int16_t>(key)); }

constexpr bool is_supported(std::int16_t key, std::int16_t version) {
  const api_info* a = find_api(key);
  return a != nullptr && version >= a->min_version && version <= a->max_version;
}

// Deliberately not capped at max_version: a client that sends ApiVersions v4 still uses header
// v2, and the broker must parse that header to answer UNSUPPORTED_VERSION.
constexpr bool is_flexible(std::int16_t key, std::int16_t version) {
  const api_info* a = find_api(key);
  return a != nullptr && version >= a->first_flexible_version;
}

constexpr bool is_flexible(api_key key, std::int16_t version) {
  return is_flexible(static_cast<std::int16_t>(key), version);
}

}  // namespace server::protocol
