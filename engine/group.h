#pragma once
// One consumer group's state: its members, the generation, the chosen protocol, the assignment
// and its committed offsets. Bookkeeping only (who is a member, who leads, which protocols all
// members support); the transitions between states are group_coordinator's.
//
// Not thread-safe: owned by group_coordinator, which runs on one executor.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/group_types.h"

namespace engine {

using join_reply = std::function<void(join_result)>;
using sync_reply = std::function<void(sync_result)>;

struct group_member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  std::chrono::milliseconds session_timeout{0};
  std::chrono::milliseconds rebalance_timeout{0};
  std::string protocol_type;
  std::vector<group_protocol> protocols;  // preference order
  blob assignment;
  join_reply awaiting_join;  // a parked JoinGroup; the member never expires while set
  sync_reply awaiting_sync;  // a parked SyncGroup; likewise

  // The metadata this member sent for `protocol` (empty when it did not name it).
  const blob& metadata(const std::string& protocol) const;
  // The same protocols, names and metadata, in the same order (a rejoin that changed nothing).
  bool matches(const std::vector<group_protocol>& p) const { return protocols == p; }
};

class group {
 public:
  explicit group(std::string id) : id_(std::move(id)) {}

  const std::string& id() const { return id_; }
  group_state state() const { return state_; }
  // Also records when, for offsets retention.
  void transition(group_state to, int64_t wall_ms);
  int64_t state_timestamp_ms() const { return state_timestamp_ms_; }

  int32_t generation() const { return generation_; }
  const std::optional<std::string>& protocol_type() const { return protocol_type_; }
  const std::optional<std::string>& protocol_name() const { return protocol_name_; }
  const std::optional<std::string>& leader() const { return leader_; }
  bool is_leader(const std::string& member) const { return leader_ && *leader_ == member; }

  // --- members ---
  bool has(const std::string& member) const { return members_.contains(member); }
  group_member& get(const std::string& member) { return members_.at(member); }
  const std::map<std::string, group_member>& members() const { return members_; }
  std::map<std::string, group_member>& members() { return members_; }
  size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }

  // Adds a member (the first one also sets the group's protocol type and becomes leader).
  // REQUIRES: supports(m.protocol_type, m.protocols), no member with this id or instance id.
  void add(group_member m);
  // Removes a member (a new leader is picked when it led). Its parked replies are the caller's
  // to answer first.
  void remove(const std::string& member);
  // Gives a static member a new member id, keeping everything else (assignment included).
  // Returns the member under its new id. REQUIRES: `old_id` is the instance's member.
  group_member& replace_static(const std::string& instance, const std::string& old_id, const std::string& new_id);
  std::optional<std::string> static_member(const std::string& instance) const;
  // Replaces a member's protocols and timeouts.
  void update(group_member& m, std::vector<group_protocol> protocols, std::chrono::milliseconds session,
              std::chrono::milliseconds rebalance);

  // Members that got MEMBER_ID_REQUIRED and have not joined with their id yet.
  std::set<std::string>& pending_members() { return pending_members_; }
  // Members of the new generation whose SyncGroup has not arrived yet.
  std::set<std::string>& pending_sync() { return pending_sync_; }

  size_t awaiting_join_count() const;
  // Every member has a parked JoinGroup and nobody is pending: the join phase can end.
  bool all_joined() const { return awaiting_join_count() == members_.size() && pending_members_.empty(); }
  // The largest rebalance timeout of the members: how long a rebalance may wait for them.
  std::chrono::milliseconds rebalance_timeout() const;

  // Empty groups accept any non-empty protocol type and list; otherwise the type must match and
  // at least one of the protocols must be supported by every member.
  bool supports(const std::string& protocol_type, const std::vector<group_protocol>& protocols) const;
  // The protocol every member supports that most members prefer (ties: the name sorting first).
  // REQUIRES: !empty().
  std::string select_protocol() const;
  // If the leader has not rejoined, another member that has becomes leader. False when the group
  // has no leader or no member rejoined.
  bool elect_joined_leader();
  // Starts the next generation: Empty when nobody is left, otherwise CompletingRebalance with
  // the protocol chosen by vote.
  void next_generation(int64_t wall_ms);

  // Topics the members subscribe to, when the group speaks the consumer protocol and every
  // subscription parses; nullopt when unknown (then every topic counts as subscribed).
  std::optional<std::set<std::string>> subscribed_topics() const;

  // --- offsets ---
  std::map<topic_partition, committed_offset>& offsets() { return offsets_; }
  const std::map<topic_partition, committed_offset>& offsets() const { return offsets_; }
  // Commits on their way to disk, per partition (OffsetFetch with require_stable waits them out).
  std::map<topic_partition, int>& pending_commits() { return pending_commits_; }
  const std::map<topic_partition, int>& pending_commits() const { return pending_commits_; }
  bool has_offsets() const { return !offsets_.empty() || !pending_commits_.empty() || !txn_offsets_.empty(); }
  // Offsets committed inside open transactions, per producer id: they become offsets when the
  // transaction commits.
  std::map<int64_t, std::map<topic_partition, committed_offset>>& txn_offsets() { return txn_offsets_; }
  const std::map<int64_t, std::map<topic_partition, committed_offset>>& txn_offsets() const { return txn_offsets_; }
  bool has_txn_offset(const topic_partition& tp) const {
    for (const auto& [pid, offs] : txn_offsets_)
      if (offs.contains(tp)) return true;
    return false;
  }
  // Removes a partition's offset and disowns the commits still on their way for it (OffsetDelete,
  // a deleted topic): their removal record comes after them in the log, so when they complete
  // they must not bring the offset back. True when there was either (the removal must be stored).
  bool remove_offset(const topic_partition& tp);
  // Completions of disowned commits still to come, per partition. Stores complete in order, so
  // a partition's next that-many completions are exactly the disowned ones.
  std::map<topic_partition, int>& cancelled_commits() { return cancelled_commits_; }

  // Counts removals, so that a commit completing after its group was deleted does not revive it.
  uint64_t incarnation() const { return incarnation_; }
  void set_incarnation(uint64_t n) { incarnation_ = n; }

  // --- durability ---
  // The group as stored. `assignment` overrides the members' (the leader's SyncGroup stores the
  // assignment it is about to hand out).
  stored_group snapshot(const std::map<std::string, blob>* assignment = nullptr) const;
  // Loads a stored group: Stable when it has members, Empty otherwise.
  void restore(const stored_group& g);

  // --- the join phase (PreparingRebalance) ---
  struct join_phase {
    bool initial = false;           // the initial rebalance delay of a group that was Empty
    bool new_member_added = false;  // a member arrived during the initial delay: wait again
    std::chrono::milliseconds delay{0};
    std::chrono::milliseconds remaining{0};  // how much of the rebalance timeout is left to wait
  };
  join_phase& phase() { return phase_; }

 private:
  std::string id_;
  group_state state_ = group_state::empty;
  int64_t state_timestamp_ms_ = 0;
  int32_t generation_ = 0;
  std::optional<std::string> protocol_type_;
  std::optional<std::string> protocol_name_;
  std::optional<std::string> leader_;
  std::map<std::string, group_member> members_;
  std::map<std::string, std::string> static_members_;  // group.instance.id -> member id
  std::set<std::string> pending_members_;
  std::set<std::string> pending_sync_;
  join_phase phase_;
  std::map<topic_partition, committed_offset> offsets_;
  std::map<topic_partition, int> pending_commits_;
  std::map<topic_partition, int> cancelled_commits_;
  std::map<int64_t, std::map<topic_partition, committed_offset>> txn_offsets_;
  uint64_t incarnation_ = 0;
};

}  // namespace engine
