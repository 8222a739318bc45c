#pragma once
// The group coordinator: Kafka's classic consumer-group protocol as a state machine (Empty,
// PreparingRebalance, CompletingRebalance, Stable, Dead) plus the committed offsets of every
// group.
//
// Pure in the way the tuner is: no threads, no clock, no I/O. Every event carries the time; a
// parked JoinGroup or SyncGroup is a reply callback kept until the group can answer it; timers
// are deadlines the owner reads with next_deadline() and fires with expire(); what must be
// durable goes to a group_store, and the answers that depend on it wait for its completion.
//
// Threads: not thread-safe. The owner runs every call, and every group_store completion, on one
// executor. Reply callbacks run inside the call that decides the answer (or inside expire() or a
// store completion); they must not call back into the coordinator (the server posts them to the
// connection's thread).
//
// Every parked reply is answered exactly once: with the group's answer, with an error when its
// member is removed, fenced or superseded by a newer request of the same member.
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "engine/group.h"
#include "engine/group_timers.h"
#include "engine/group_types.h"

namespace engine {

struct group_config {
  // group.initial.rebalance.delay.ms: a group that starts together rebalances once.
  std::chrono::milliseconds initial_rebalance_delay{3000};
  // group.min/max.session.timeout.ms
  std::chrono::milliseconds min_session_timeout{6000};
  std::chrono::milliseconds max_session_timeout{1'800'000};
  size_t max_group_size = std::numeric_limits<int32_t>::max();              // group.max.size
  std::chrono::milliseconds offsets_retention{std::chrono::hours(24 * 7)};  // offsets.retention.minutes
  std::chrono::milliseconds offsets_retention_check_interval{std::chrono::minutes(10)};
  size_t max_metadata_bytes = 4096;  // offset.metadata.max.bytes
};

// Where group state becomes durable (the WAL's group stream in the server, a fake in tests).
class group_store {
 public:
  virtual ~group_store() = default;
  using done_fn = std::function<void(std::error_code, const coordinator_time& now)>;
  // Makes `r` durable, then calls `done` with the outcome and the time it runs at: later, on the
  // coordinator's executor, never inside persist(). Records become durable, and their `done`s
  // run, in the order they were persisted.
  virtual void persist(group_record r, done_fn done) = 0;
};

struct coordinator_stats {
  size_t groups = 0;
  size_t members = 0;
  std::map<group_state, size_t> by_state;
  uint64_t rebalances = 0;  // generations completed with members
  uint64_t offset_commits = 0;
  uint64_t expired_offsets = 0;
};

struct committed_view {
  std::string group;
  topic_partition tp;
  int64_t offset = -1;
};

class group_coordinator {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  // `new_id` makes the random part of member ids (Kafka uses a UUID); tests pass a counter.
  group_coordinator(group_config cfg, group_store& store, std::function<std::string()> new_id);
  group_coordinator(const group_coordinator&) = delete;
  group_coordinator& operator=(const group_coordinator&) = delete;

  // --- start-up ---
  // Applies one durable record, in log order. REQUIRES: before start().
  void load(const group_record& r);
  // Ends loading: groups with members are Stable and their sessions start now; offsets of
  // topics that do not exist any more are removed, durably.
  void start(const coordinator_time& now, const std::function<bool(const std::string&)>& topic_exists);

  // --- the group protocol ---
  void join(const coordinator_time& now, join_request req, join_reply reply);
  void sync(const coordinator_time& now, sync_request req, sync_reply reply);
  std::error_code heartbeat(const coordinator_time& now, const heartbeat_request& req);
  leave_result leave(const coordinator_time& now, const std::string& group_id,
                     const std::vector<leave_member>& members);

  // --- offsets ---
  // Answers after the commit is durable. The caller has already refused partitions that do not
  // exist; every offset in `req` is for an existing partition.
  void commit(const coordinator_time& now, commit_request req, std::function<void(commit_result)> reply);
  // `tps` nullopt: every offset the group has committed. Unknown groups and partitions answer
  // offset -1 without error.
  std::vector<fetched_offset> fetch_offsets(const std::string& group_id,
                                            const std::optional<std::vector<topic_partition>>& tps,
                                            bool require_stable) const;
  // OffsetDelete: group error, then one error per partition (empty on a group error).
  void delete_offsets(const coordinator_time& now, const std::string& group_id, std::vector<topic_partition> tps,
                      std::function<void(std::error_code, std::vector<std::error_code>)> reply);
  // A topic was deleted: its offsets go too, durably.
  void topic_deleted(const std::string& topic);

  // --- transactions ---
  // TxnOffsetCommit: offsets held for `producer_id` until its transaction ends; answered after
  // they are durable. The caller has refused partitions that do not exist.
  void txn_commit(const coordinator_time& now, txn_commit_request req, std::function<void(commit_result)> reply);
  // The transaction of `producer_id` ended: its offsets for this group become the group's
  // (commit) or are dropped (abort), durably; `done` then runs.
  void complete_txn(const std::string& group_id, int64_t producer_id, bool commit, group_store::done_fn done);

  // --- administration ---
  std::vector<group_overview> list(const std::set<group_state>& states) const;  // empty set: all
  group_description describe(const std::string& group_id) const;
  // One error per group, after the removals are durable.
  void delete_groups(const coordinator_time& now, std::vector<std::string> group_ids,
                     std::function<void(std::vector<std::error_code>)> reply);

  // The coordinator is going away (shutdown): every parked JoinGroup and SyncGroup is answered
  // with shutting_down, so that no connection waits on it.
  void abandon_parked();

  // --- time ---
  std::optional<time_point> next_deadline() const { return timers_.next(); }
  // Runs every timer due at `now`.
  void expire(const coordinator_time& now);

  // --- reclaiming the log ---
  // The whole durable state as records: loaded into an empty coordinator, in order, they give
  // the state loading every record so far gave. Each group's last stored metadata (not what a
  // rebalance under way holds in memory), its committed offsets and its open transactions'
  // offsets. Call with nothing in flight in the store (docs/wal-format.md, "Reclaiming space").
  std::vector<group_record> restatement() const;

  // --- observation ---
  coordinator_stats stats() const;
  std::vector<committed_view> committed_offsets() const;
  const group_config& config() const { return cfg_; }

 private:
  group* find(const std::string& id);
  const group* find(const std::string& id) const;
  group& get_or_create(const std::string& id, const coordinator_time& now);
  void erase_group(const std::string& id);

  // Join paths (Kafka's doNewMemberJoinGroup / doCurrentMemberJoinGroup).
  void join_new_member(const coordinator_time& now, group& g, join_request& req, join_reply& reply);
  void join_current_member(const coordinator_time& now, group& g, join_request& req, join_reply& reply);
  void add_member_and_rebalance(const coordinator_time& now, group& g, join_request& req, std::string member_id,
                                join_reply reply);
  void replace_static_member(const coordinator_time& now, group& g, join_request& req, const std::string& old_id,
                             std::string new_id, join_reply reply);
  void update_member_and_rebalance(const coordinator_time& now, group& g, group_member& m, join_request& req,
                                   join_reply reply, const std::string& reason);
  // The member's current generation, without a rebalance.
  join_result current_generation(const group& g, const std::string& member_id, bool with_members) const;

  void maybe_prepare_rebalance(const coordinator_time& now, group& g, const std::string& reason);
  void prepare_rebalance(const coordinator_time& now, group& g, const std::string& reason);
  void try_complete_join(const coordinator_time& now, group& g);
  void complete_join(const coordinator_time& now, group& g);
  // Takes a member out, answering its parked requests with UNKNOWN_MEMBER_ID; no transition.
  void drop_member(group& g, const std::string& member_id);
  // Takes a member out and moves the group on (rebalance, or complete the join phase).
  void remove_member(const coordinator_time& now, group& g, const std::string& member_id, const std::string& reason);
  void remove_pending_member(const coordinator_time& now, group& g, const std::string& member_id);
  // SyncGroup answers for every parked member: their assignments, or an error for all.
  void propagate_assignment(const coordinator_time& now, group& g, std::error_code error);
  // A member is alive now: its session starts again.
  void touch(const coordinator_time& now, group& g, const group_member& m);
  // FENCED_INSTANCE_ID / UNKNOWN_MEMBER_ID for a request naming `member_id` (and an instance).
  std::error_code validate_member(const group& g, const std::string& member_id,
                                  const std::optional<std::string>& instance_id) const;
  std::error_code validate_commit(const group& g, const commit_request& req) const;
  void store_offsets(const coordinator_time& now, group& g, commit_request req,
                     std::function<void(commit_result)> reply);
  void persist_group(group& g, const std::map<std::string, blob>* assignment, group_store::done_fn done);
  void expire_offsets(const coordinator_time& now);
  void on_timer(const coordinator_time& now, const timer_key& k);

  group_config cfg_;
  group_store& store_;
  std::function<std::string()> new_id_;
  std::map<std::string, std::unique_ptr<group>> groups_;
  // Each group's metadata as last made durable (or loaded): what restatement() writes.
  std::map<std::string, stored_group> stored_meta_;
  timer_queue timers_;
  uint64_t incarnations_ = 0;
  bool started_ = false;
  uint64_t rebalances_ = 0;
  uint64_t offset_commits_ = 0;
  uint64_t expired_offsets_ = 0;
};

}  // namespace engine
