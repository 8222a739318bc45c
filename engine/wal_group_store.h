#pragma once
// The group coordinator's durable home: group records appended to the WAL's group stream, so
// that a commit is answered after the fdatasync that covers it, like a produce. Completions come
// back on the WAL sync thread and are handed to `post`, which must run them on the coordinator's
// executor (in order), with the time read from `clock` there.
//
// Thread-safety: persist() is called on the coordinator's executor only.
#include <functional>

#include "engine/broker.h"
#include "engine/group_coordinator.h"
#include "engine/internal_gate.h"

namespace engine {

class wal_group_store final : public group_store {
 public:
  using post_fn = std::function<void(std::function<void()>)>;
  using clock_fn = std::function<coordinator_time()>;

  wal_group_store(post_fn post, clock_fn clock, internal_gate& gate)
      : post_(std::move(post)), clock_(std::move(clock)), gate_(gate) {}

  // The engine opens after the coordinator was loaded from it. REQUIRES: before any persist().
  void attach(log_manager& engine) { engine_ = &engine; }
  void persist(group_record r, done_fn done) override;

  // Decodes one replayed record of the group stream into the coordinator (log_manager::open's
  // internal visitor). A record that does not decode is logged and skipped.
  static void load(group_coordinator& c, uint8_t type, std::span<const std::byte> payload);

 private:
  log_manager* engine_ = nullptr;
  post_fn post_;
  clock_fn clock_;
  internal_gate& gate_;
};

}  // namespace engine
