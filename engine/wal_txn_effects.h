#pragma once
// What the transaction coordinator's decisions do to the world: its state goes to the WAL's
// transaction stream, and a transaction's end becomes a marker in every partition it wrote to
// and a settlement of its offsets in every group it committed for. Completions come back on the
// WAL sync thread and are handed to `post`, which must run them on the coordinators' executor
// (in order), where the group coordinator also lives.
//
// Thread-safety: called on the coordinators' executor only.
#include <functional>

#include "engine/broker.h"
#include "engine/group_coordinator.h"
#include "engine/internal_gate.h"
#include "engine/txn_coordinator.h"

namespace engine {

class wal_txn_effects final : public txn_effects {
 public:
  using post_fn = std::function<void(std::function<void()>)>;
  using clock_fn = std::function<coordinator_time()>;

  wal_txn_effects(group_coordinator& groups, post_fn post, clock_fn clock, internal_gate& gate)
      : groups_(groups), post_(std::move(post)), clock_(std::move(clock)), gate_(gate) {}

  // REQUIRES: before any persist() or write_markers().
  void attach(log_manager& engine) { engine_ = &engine; }

  void persist(txn_record r, done_fn done) override;
  void write_markers(int64_t producer_id, int16_t epoch, bool commit, const std::vector<topic_partition>& partitions,
                     const std::vector<std::string>& groups, done_fn done) override;

  // Decodes one replayed record of the transaction stream into the coordinator.
  static void load(txn_coordinator& c, uint8_t type, std::span<const std::byte> payload);

 private:
  group_coordinator& groups_;
  log_manager* engine_ = nullptr;
  post_fn post_;
  clock_fn clock_;
  internal_gate& gate_;
};

}  // namespace engine
