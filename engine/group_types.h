#pragma once
// The vocabulary of the group coordinator (engine/group_coordinator.h): what each group API asks
// and answers, committed offsets, and the durable records of group state. Plain values: no Kafka
// wire format, no Asio, no clock.
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace engine {

using blob = std::vector<std::byte>;  // opaque bytes clients send (protocol metadata, assignments)

// Kafka's classic group state machine. The names are Kafka's exact spelling (DescribeGroups,
// ListGroups and their filters use them).
enum class group_state : uint8_t { empty, preparing_rebalance, completing_rebalance, stable, dead };
std::string_view to_string(group_state s);
// Case-insensitive, as Kafka's ListGroups states filter.
std::optional<group_state> parse_group_state(std::string_view s);

// Time as the coordinator sees it, passed in with every event: the monotonic clock drives
// session, rebalance and sync timeouts; wall-clock milliseconds go into what is stored (commit
// and state timestamps), because offsets retention must survive restarts.
struct coordinator_time {
  std::chrono::steady_clock::time_point mono;
  int64_t wall_ms = 0;
};

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  friend auto operator<=>(const topic_partition&, const topic_partition&) = default;
};

struct committed_offset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int64_t commit_timestamp_ms = 0;
  std::optional<int64_t> expire_timestamp_ms;  // only when the commit asked for its own retention
  friend bool operator==(const committed_offset&, const committed_offset&) = default;
};

struct group_protocol {
  std::string name;
  blob metadata;
  friend bool operator==(const group_protocol&, const group_protocol&) = default;
};

// --- JoinGroup ---
struct join_request {
  std::string group_id;
  std::string member_id;  // empty: a new member
  std::optional<std::string> group_instance_id;
  std::string protocol_type;
  std::vector<group_protocol> protocols;  // in the member's order of preference
  std::chrono::milliseconds session_timeout{0};
  std::chrono::milliseconds rebalance_timeout{0};
  std::string client_id;
  std::string client_host;
  bool require_known_member_id = false;   // JoinGroup v4+: MEMBER_ID_REQUIRED on a first join
  bool supports_skip_assignment = false;  // JoinGroup v9+
  std::string reason;
};

struct join_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  blob metadata;  // for the chosen protocol
};

struct join_result {
  std::error_code error;
  int32_t generation = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader;
  std::string member_id;
  bool skip_assignment = false;
  std::vector<join_member> members;  // only in the leader's answer
};

// --- SyncGroup ---
struct sync_request {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;  // v5+: checked against the group's when given
  std::optional<std::string> protocol_name;
  std::vector<std::pair<std::string, blob>> assignments;  // the leader's: member id -> assignment
};

struct sync_result {
  std::error_code error;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  blob assignment;
};

// --- Heartbeat and LeaveGroup ---
struct heartbeat_request {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct leave_member {
  std::string member_id;  // empty with an instance id: remove that static member (admin)
  std::optional<std::string> group_instance_id;
  std::string reason;
};

struct leave_result {
  std::error_code error;                 // group-level
  std::vector<std::error_code> members;  // one per leave_member, in order
};

// --- OffsetCommit and OffsetFetch ---
struct commit_request {
  std::string group_id;
  int32_t generation = -1;  // -1 with an empty member id: a commit from outside any group
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::chrono::milliseconds> retention;                 // v2-4 clients may ask for their own
  std::vector<std::pair<topic_partition, committed_offset>> offsets;  // timestamps set by the coordinator
};

// One per commit_request offset, in order.
using commit_result = std::vector<std::error_code>;

struct fetched_offset {
  topic_partition tp;
  committed_offset offset;  // offset -1 when nothing is committed
  std::error_code error;
};

// --- ListGroups and DescribeGroups ---
struct group_overview {
  std::string group_id;
  std::string protocol_type;
  group_state state = group_state::empty;
};

struct described_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  blob metadata;    // Stable groups only
  blob assignment;  // Stable groups only
};

struct group_description {
  std::string group_id;
  group_state state = group_state::dead;  // Dead for a group the coordinator does not know
  std::string protocol_type;
  std::string protocol_name;  // Stable groups only
  std::vector<described_member> members;
};

// --- Durable records (engine/group_records.h encodes them) ---
// What a group looks like when stored: after a rebalance completes (Stable) or when it becomes
// Empty. A restarted broker loads it as Stable (members given) or Empty.
struct stored_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  blob subscription;  // metadata for the group's protocol
  blob assignment;
  friend bool operator==(const stored_member&, const stored_member&) = default;
};

struct stored_group {
  std::string protocol_type;  // empty: a group used only to store offsets
  int32_t generation = 0;
  std::optional<std::string> protocol_name;
  std::optional<std::string> leader;
  int64_t state_timestamp_ms = 0;
  std::vector<stored_member> members;
  friend bool operator==(const stored_group&, const stored_group&) = default;
};

// A group's metadata, or (nullopt) its removal together with all of its offsets.
struct group_metadata_record {
  std::string group_id;
  std::optional<stored_group> value;
  friend bool operator==(const group_metadata_record&, const group_metadata_record&) = default;
};

// Committed offsets of one group; nullopt removes that partition's offset.
struct offsets_record {
  std::string group_id;
  std::vector<std::pair<topic_partition, std::optional<committed_offset>>> offsets;
  friend bool operator==(const offsets_record&, const offsets_record&) = default;
};

// Offsets committed inside a transaction (TxnOffsetCommit): pending until the transaction's
// marker for this group says commit (they become the group's offsets) or abort (dropped).
struct txn_offsets_record {
  std::string group_id;
  int64_t producer_id = -1;
  std::vector<std::pair<topic_partition, committed_offset>> offsets;
  friend bool operator==(const txn_offsets_record&, const txn_offsets_record&) = default;
};

// The end of a transaction for one group's pending offsets.
struct txn_marker_record {
  std::string group_id;
  int64_t producer_id = -1;
  bool commit = false;
  friend bool operator==(const txn_marker_record&, const txn_marker_record&) = default;
};

using group_record = std::variant<group_metadata_record, offsets_record, txn_offsets_record, txn_marker_record>;

// --- TxnOffsetCommit ---
struct txn_commit_request {
  std::string group_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t generation = -1;  // v3+: checked like OffsetCommit's when given
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<std::pair<topic_partition, committed_offset>> offsets;
};

}  // namespace engine
