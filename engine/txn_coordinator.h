#pragma once
// The transaction coordinator: producer ids for idempotent and transactional producers, and
// Kafka's transaction state machine per transactional id (Empty, Ongoing, PrepareCommit,
// PrepareAbort, CompleteCommit, CompleteAbort).
//
// Pure like the group coordinator: every event carries the time, what must be durable goes to a
// txn_effects, and so do the transaction markers; answers that depend on them wait for their
// completion. A commit or abort is answered once its Prepare state is durable; the markers are
// then written to every partition (and group) of the transaction, and the Complete state
// follows once they are durable. A broker that stops in between resumes the markers at start.
//
// Threads: not thread-safe; the owner runs every call and every completion on one executor.
// Reply callbacks must not call back into the coordinator.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "engine/group_types.h"

namespace engine {

enum class txn_state : uint8_t {
  empty,
  ongoing,
  prepare_commit,
  prepare_abort,
  complete_commit,
  complete_abort,
  dead,
  prepare_epoch_fence,
};
std::string_view to_string(txn_state s);  // Kafka's names: "Empty", "Ongoing", "PrepareCommit", ...
std::optional<txn_state> parse_txn_state(std::string_view s);

struct txn_config {
  std::chrono::milliseconds max_timeout{900'000};  // transaction.max.timeout.ms
  // transaction.abort.timed.out.transaction.cleanup.interval.ms
  std::chrono::milliseconds abort_check_interval{10'000};
  std::chrono::milliseconds id_expiration{std::chrono::hours(24 * 7)};  // transactional.id.expiration.ms
  int64_t producer_id_block = 1000;                                     // ids reserved durably at a time
};

// --- durable records (engine/txn_records.h encodes them) ---
struct stored_txn {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t timeout_ms = 0;
  txn_state state = txn_state::empty;
  std::vector<topic_partition> partitions;
  std::vector<std::string> groups;
  int64_t start_ms = -1;
  int64_t last_update_ms = 0;
  friend bool operator==(const stored_txn&, const stored_txn&) = default;
};
struct txn_metadata_record {
  std::string transactional_id;
  std::optional<stored_txn> value;  // nullopt: the transactional id expired
  friend bool operator==(const txn_metadata_record&, const txn_metadata_record&) = default;
};
// Producer ids below `next_block_end` may have been handed out: never again.
struct producer_id_block_record {
  int64_t block_end = 0;
  friend bool operator==(const producer_id_block_record&, const producer_id_block_record&) = default;
};
using txn_record = std::variant<txn_metadata_record, producer_id_block_record>;

// The coordinator's effects, done by its owner (the WAL and the engine in the server, fakes in
// tests). Completions run later, on the coordinator's executor, never inside the call.
class txn_effects {
 public:
  using done_fn = std::function<void(std::error_code, const coordinator_time& now)>;
  virtual ~txn_effects() = default;
  virtual void persist(txn_record r, done_fn done) = 0;
  // Writes the commit or abort marker of `producer_id` at `epoch` into every partition and
  // settles the transaction's offsets in every group; `done` once all of it is durable.
  virtual void write_markers(int64_t producer_id, int16_t epoch, bool commit,
                             const std::vector<topic_partition>& partitions, const std::vector<std::string>& groups,
                             done_fn done) = 0;
};

struct init_pid_result {
  std::error_code error;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

struct txn_description {
  std::error_code error;  // transactional_id_not_found
  std::string transactional_id;
  txn_state state = txn_state::empty;
  int32_t timeout_ms = 0;
  int64_t start_ms = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::vector<topic_partition> partitions;
};

struct txn_listing {
  std::string transactional_id;
  int64_t producer_id = -1;
  txn_state state = txn_state::empty;
};

class txn_coordinator {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  txn_coordinator(txn_config cfg, txn_effects& effects);
  txn_coordinator(const txn_coordinator&) = delete;
  txn_coordinator& operator=(const txn_coordinator&) = delete;

  // --- start-up ---
  void load(const txn_record& r);  // in log order, before start()
  // Resumes transactions that were completing (their markers are written again) and starts the
  // timeout checks.
  void start(const coordinator_time& now);
  // The whole state as records (the reserved producer id block, every transactional id's
  // state), for reclaiming the log: loaded in order into an empty coordinator they give this
  // state. A state change waiting for its record is restated as if that record were durable.
  std::vector<txn_record> restatement() const;

  // InitProducerId. No transactional id: a fresh producer id at epoch 0, every time.
  // `expected_*` (v3+, -1 when absent): the producer's current id and epoch, which must match.
  void init_producer_id(const coordinator_time& now, const std::optional<std::string>& transactional_id,
                        int32_t timeout_ms, int64_t expected_id, int16_t expected_epoch,
                        std::function<void(init_pid_result)> reply);
  // AddPartitionsToTxn; the caller has refused partitions that do not exist.
  void add_partitions(const coordinator_time& now, const std::string& transactional_id, int64_t producer_id,
                      int16_t epoch, std::vector<topic_partition> partitions,
                      std::function<void(std::error_code)> reply);
  // AddOffsetsToTxn: the group's offsets join the transaction.
  void add_offsets(const coordinator_time& now, const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                   const std::string& group_id, std::function<void(std::error_code)> reply);
  // EndTxn. A retry of a commit (abort) that already completed is answered with success.
  void end_txn(const coordinator_time& now, const std::string& transactional_id, int64_t producer_id, int16_t epoch,
               bool commit, std::function<void(std::error_code)> reply);

  std::vector<txn_description> describe(const std::vector<std::string>& ids) const;
  std::vector<txn_listing> list(const std::set<txn_state>& states, const std::set<int64_t>& producer_ids,
                                std::optional<std::chrono::milliseconds> running_longer_than,
                                const coordinator_time& now) const;

  std::optional<time_point> next_deadline() const { return next_check_; }
  // Aborts transactions past their timeout (fencing their producer) and forgets idle ids.
  void expire(const coordinator_time& now);

  std::map<txn_state, size_t> count_by_state() const;

 private:
  struct txn {
    std::string id;
    stored_txn s;
    // A state change on its way to disk: requests meanwhile get CONCURRENT_TRANSACTIONS.
    bool pending = false;
  };
  using pid_waiter = std::function<void(std::error_code, int64_t)>;

  void allocate_pid(pid_waiter w);
  void persist(txn& t, std::function<void(std::error_code, const coordinator_time&)> then);
  // Ongoing -> Prepare{Commit,Abort} (durable) -> markers -> Complete{Commit,Abort}.
  // `on_prepared` runs once the Prepare state is durable (or failed).
  void end(txn& t, bool commit, std::function<void(std::error_code)> on_prepared);
  void write_markers(const std::string& id);
  // Fences the producer (epoch + 1, or a new producer id when the epoch runs out) and aborts.
  void fence_and_abort(txn& t, const coordinator_time& now);
  std::error_code check_producer(const txn& t, int64_t producer_id, int16_t epoch) const;

  txn_config cfg_;
  txn_effects& effects_;
  std::map<std::string, txn> txns_;
  int64_t next_pid_ = 0;
  int64_t block_end_ = 0;
  bool block_pending_ = false;
  std::deque<pid_waiter> pid_waiters_;
  std::optional<time_point> next_check_;
};

}  // namespace engine
