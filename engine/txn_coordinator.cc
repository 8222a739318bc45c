// Kafka's TransactionCoordinator, for one broker that is coordinator of every transactional id.
#include "engine/txn_coordinator.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <memory>

#include "engine/errc.h"
#include "engine/logger.h"

namespace engine {
namespace {

std::error_code err(errc e) { return make_error_code(e); }

constexpr txn_state all_states[] = {
    txn_state::empty,           txn_state::ongoing,        txn_state::prepare_commit, txn_state::prepare_abort,
    txn_state::complete_commit, txn_state::complete_abort, txn_state::dead,           txn_state::prepare_epoch_fence};

bool completing(txn_state s) { return s == txn_state::prepare_commit || s == txn_state::prepare_abort; }

}  // namespace

std::string_view to_string(txn_state s) {
  switch (s) {
    case txn_state::empty: return "Empty";
    case txn_state::ongoing: return "Ongoing";
    case txn_state::prepare_commit: return "PrepareCommit";
    case txn_state::prepare_abort: return "PrepareAbort";
    case txn_state::complete_commit: return "CompleteCommit";
    case txn_state::complete_abort: return "CompleteAbort";
    case txn_state::dead: return "Dead";
    case txn_state::prepare_epoch_fence: return "PrepareEpochFence";
  }
  return "Unknown";
}

std::optional<txn_state> parse_txn_state(std::string_view s) {
  auto lower = [](std::string_view v) {
    std::string out(v);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  for (auto st : all_states)
    if (lower(to_string(st)) == lower(s)) return st;
  return std::nullopt;
}

txn_coordinator::txn_coordinator(txn_config cfg, txn_effects& effects) : cfg_(cfg), effects_(effects) {}

// --- start-up ---

void txn_coordinator::load(const txn_record& r) {
  if (const auto* b = std::get_if<producer_id_block_record>(&r)) {
    // Any id of a reserved block may have been handed out before a crash: start past it.
    block_end_ = std::max(block_end_, b->block_end);
    next_pid_ = block_end_;
    return;
  }
  const auto& m = std::get<txn_metadata_record>(r);
  if (!m.value) {
    txns_.erase(m.transactional_id);
    return;
  }
  txn& t = txns_[m.transactional_id];
  t.id = m.transactional_id;
  t.s = *m.value;
}

std::vector<txn_record> txn_coordinator::restatement() const {
  std::vector<txn_record> out;
  if (block_end_ > 0) out.push_back(producer_id_block_record{block_end_});
  for (const auto& [id, t] : txns_) out.push_back(txn_metadata_record{id, t.s});
  return out;
}

void txn_coordinator::start(const coordinator_time& now) {
  size_t resumed = 0;
  for (auto& [id, t] : txns_)
    if (completing(t.s.state)) {
      write_markers(id);
      ++resumed;
    }
  next_check_ = now.mono + cfg_.abort_check_interval;
  log().info(
      "transaction coordinator: {} transactional id(s) loaded, {} completing transaction(s) resumed, "
      "producer ids from {}",
      txns_.size(), resumed, next_pid_);
}

// --- producer ids ---

void txn_coordinator::allocate_pid(pid_waiter w) {
  if (next_pid_ < block_end_) return w({}, next_pid_++);
  pid_waiters_.push_back(std::move(w));
  if (block_pending_) return;
  block_pending_ = true;
  // The block is durable before any id of it is handed out, so no id is ever issued twice,
  // whatever the crash.
  const int64_t end = std::max(block_end_, next_pid_) + cfg_.producer_id_block;
  effects_.persist(producer_id_block_record{end}, [this, end](std::error_code ec, const coordinator_time&) {
    block_pending_ = false;
    auto waiters = std::move(pid_waiters_);
    pid_waiters_.clear();
    if (ec) {
      for (auto& wt : waiters) wt(ec, -1);
      return;
    }
    block_end_ = end;
    for (auto& wt : waiters) allocate_pid(std::move(wt));
  });
}

// --- state changes ---

void txn_coordinator::persist(txn& t, std::function<void(std::error_code, const coordinator_time&)> then) {
  // `t.s` already holds the next state; it is kept only once durable (see the callers).
  t.pending = true;
  effects_.persist(txn_metadata_record{t.id, t.s},
                   [this, id = t.id, then = std::move(then)](std::error_code ec, const coordinator_time& now) {
                     if (auto it = txns_.find(id); it != txns_.end()) it->second.pending = false;
                     then(ec, now);
                   });
}

void txn_coordinator::end(txn& t, bool commit, std::function<void(std::error_code)> on_prepared) {
  const stored_txn before = t.s;
  t.s.state = commit ? txn_state::prepare_commit : txn_state::prepare_abort;
  log().debug("transaction {}: {} (producer {} epoch {}, {} partition(s), {} group(s))", t.id, to_string(t.s.state),
              t.s.producer_id, t.s.producer_epoch, t.s.partitions.size(), t.s.groups.size());
  persist(t,
          [this, id = t.id, before, on_prepared = std::move(on_prepared)](std::error_code ec, const coordinator_time&) {
            auto it = txns_.find(id);
            if (ec) {
              if (it != txns_.end()) it->second.s = before;
              return on_prepared(ec);
            }
            on_prepared({});
            write_markers(id);
          });
}

void txn_coordinator::write_markers(const std::string& id) {
  txn& t = txns_.at(id);
  const bool commit = t.s.state == txn_state::prepare_commit;
  effects_.write_markers(t.s.producer_id, t.s.producer_epoch, commit, t.s.partitions, t.s.groups,
                         [this, id, commit](std::error_code ec, const coordinator_time& now) {
                           auto it = txns_.find(id);
                           if (it == txns_.end() || !completing(it->second.s.state)) return;
                           txn& tt = it->second;
                           if (ec) {
                             // The log failed (sticky): the transaction stays Prepare*, and is resumed at the next
                             // start.
                             log().error(
                                 "transaction {}: writing its {} markers failed: {}; it completes after a restart", id,
                                 commit ? "commit" : "abort", ec.message());
                             return;
                           }
                           const stored_txn before = tt.s;
                           tt.s.state = commit ? txn_state::complete_commit : txn_state::complete_abort;
                           tt.s.partitions.clear();
                           tt.s.groups.clear();
                           tt.s.start_ms = -1;
                           tt.s.last_update_ms = now.wall_ms;
                           persist(tt, [this, id, before](std::error_code e, const coordinator_time&) {
                             // Not durable: the Prepare state stands and is resumed after a restart; markers are
                             // idempotent for a closed transaction.
                             if (e)
                               if (auto i = txns_.find(id); i != txns_.end()) i->second.s = before;
                           });
                         });
}

void txn_coordinator::fence_and_abort(txn& t, const coordinator_time& now) {
  // The epoch goes up so that the producer, and any zombie of it, is refused from now on: the
  // abort markers carry the new epoch into every partition.
  t.s.producer_epoch = static_cast<int16_t>(t.s.producer_epoch + 1);
  t.s.last_update_ms = now.wall_ms;
  end(t, false, [id = t.id](std::error_code ec) {
    if (ec) log().warn("transaction {}: storing its abort failed: {}", id, ec.message());
  });
}

std::error_code txn_coordinator::check_producer(const txn& t, int64_t producer_id, int16_t epoch) const {
  if (producer_id != t.s.producer_id) return err(errc::invalid_producer_id_mapping);
  if (epoch != t.s.producer_epoch) return err(errc::producer_fenced);
  return {};
}

// --- the APIs ---

void txn_coordinator::init_producer_id(const coordinator_time& now, const std::optional<std::string>& transactional_id,
                                       int32_t timeout_ms, int64_t expected_id, int16_t expected_epoch,
                                       std::function<void(init_pid_result)> reply) {
  auto fail = [&](errc e) { reply({err(e), -1, -1}); };
  if (!transactional_id) {
    // An idempotent producer: a new id every time.
    return allocate_pid([reply = std::move(reply)](std::error_code ec, int64_t pid) { reply({ec, pid, 0}); });
  }
  const std::string& id = *transactional_id;
  if (id.empty()) return fail(errc::invalid_request);
  if (timeout_ms <= 0 || std::chrono::milliseconds(timeout_ms) > cfg_.max_timeout)
    return fail(errc::invalid_transaction_timeout);

  auto it = txns_.find(id);
  if (it == txns_.end()) {
    return allocate_pid(
        [this, id, timeout_ms, wall = now.wall_ms, reply = std::move(reply)](std::error_code ec, int64_t pid) mutable {
          if (ec) return reply({ec, -1, -1});
          if (txns_.contains(id)) return reply({err(errc::concurrent_transactions), -1, -1});  // raced; retry
          txn& t = txns_[id];
          t.id = id;
          t.s = stored_txn{pid, 0, timeout_ms, txn_state::empty, {}, {}, -1, wall};
          persist(t, [this, id, pid, reply = std::move(reply)](std::error_code e, const coordinator_time&) {
            if (e) txns_.erase(id);
            reply({e, e ? -1 : pid, static_cast<int16_t>(e ? -1 : 0)});
          });
        });
  }
  txn& t = it->second;
  if (t.pending) return fail(errc::concurrent_transactions);
  if (expected_id >= 0 && (expected_id != t.s.producer_id || expected_epoch != t.s.producer_epoch))
    return fail(errc::producer_fenced);
  switch (t.s.state) {
    case txn_state::ongoing:
      // The previous producer left a transaction open: fence it and abort the transaction; the
      // new producer retries once the abort completed.
      log().info("transaction {}: a new producer takes over; aborting the open transaction", id);
      fence_and_abort(t, now);
      return fail(errc::concurrent_transactions);
    case txn_state::prepare_commit:
    case txn_state::prepare_abort:
    case txn_state::prepare_epoch_fence:
    case txn_state::dead: return fail(errc::concurrent_transactions);
    case txn_state::empty:
    case txn_state::complete_commit:
    case txn_state::complete_abort: break;
  }
  auto bump = [this, id, timeout_ms, wall = now.wall_ms, reply](int64_t pid, int16_t epoch) mutable {
    auto i = txns_.find(id);
    if (i == txns_.end()) return reply({err(errc::concurrent_transactions), -1, -1});
    txn& tt = i->second;
    const stored_txn before = tt.s;
    tt.s = stored_txn{pid, epoch, timeout_ms, txn_state::empty, {}, {}, -1, wall};
    persist(tt, [this, id, before, pid, epoch, reply = std::move(reply)](std::error_code e, const coordinator_time&) {
      if (e) {
        if (auto j = txns_.find(id); j != txns_.end()) j->second.s = before;
        return reply({e, -1, -1});
      }
      reply({{}, pid, epoch});
    });
  };
  if (t.s.producer_epoch >= std::numeric_limits<int16_t>::max() - 1) {
    // The epoch is exhausted: a new producer id starts again at 0, as Kafka does.
    t.pending = true;
    return allocate_pid([this, id, bump, reply](std::error_code ec, int64_t pid) mutable {
      if (auto i = txns_.find(id); i != txns_.end()) i->second.pending = false;
      if (ec) return reply({ec, -1, -1});
      bump(pid, 0);
    });
  }
  bump(t.s.producer_id, static_cast<int16_t>(t.s.producer_epoch + 1));
}

void txn_coordinator::add_partitions(const coordinator_time& now, const std::string& transactional_id,
                                     int64_t producer_id, int16_t epoch, std::vector<topic_partition> partitions,
                                     std::function<void(std::error_code)> reply) {
  auto it = txns_.find(transactional_id);
  if (it == txns_.end()) return reply(err(errc::invalid_producer_id_mapping));
  txn& t = it->second;
  if (auto e = check_producer(t, producer_id, epoch)) return reply(e);
  if (t.pending || t.s.state == txn_state::prepare_commit || t.s.state == txn_state::prepare_abort)
    return reply(err(errc::concurrent_transactions));
  if (t.s.state == txn_state::dead || t.s.state == txn_state::prepare_epoch_fence)
    return reply(err(errc::invalid_txn_state));
  std::vector<topic_partition> added;
  for (auto& tp : partitions)
    if (std::find(t.s.partitions.begin(), t.s.partitions.end(), tp) == t.s.partitions.end() &&
        std::find(added.begin(), added.end(), tp) == added.end())
      added.push_back(tp);
  if (added.empty() && t.s.state == txn_state::ongoing) return reply({});
  const stored_txn before = t.s;
  t.s.partitions.insert(t.s.partitions.end(), added.begin(), added.end());
  if (t.s.state != txn_state::ongoing) {
    t.s.state = txn_state::ongoing;
    t.s.start_ms = now.wall_ms;
  }
  t.s.last_update_ms = now.wall_ms;
  persist(t,
          [this, id = transactional_id, before, reply = std::move(reply)](std::error_code e, const coordinator_time&) {
            if (e)
              if (auto i = txns_.find(id); i != txns_.end()) i->second.s = before;
            reply(e);
          });
}

void txn_coordinator::add_offsets(const coordinator_time& now, const std::string& transactional_id, int64_t producer_id,
                                  int16_t epoch, const std::string& group_id,
                                  std::function<void(std::error_code)> reply) {
  auto it = txns_.find(transactional_id);
  if (it == txns_.end()) return reply(err(errc::invalid_producer_id_mapping));
  txn& t = it->second;
  if (auto e = check_producer(t, producer_id, epoch)) return reply(e);
  if (t.pending || t.s.state == txn_state::prepare_commit || t.s.state == txn_state::prepare_abort)
    return reply(err(errc::concurrent_transactions));
  if (t.s.state == txn_state::dead || t.s.state == txn_state::prepare_epoch_fence)
    return reply(err(errc::invalid_txn_state));
  const bool known = std::find(t.s.groups.begin(), t.s.groups.end(), group_id) != t.s.groups.end();
  if (known && t.s.state == txn_state::ongoing) return reply({});
  const stored_txn before = t.s;
  if (!known) t.s.groups.push_back(group_id);
  if (t.s.state != txn_state::ongoing) {
    t.s.state = txn_state::ongoing;
    t.s.start_ms = now.wall_ms;
  }
  t.s.last_update_ms = now.wall_ms;
  persist(t,
          [this, id = transactional_id, before, reply = std::move(reply)](std::error_code e, const coordinator_time&) {
            if (e)
              if (auto i = txns_.find(id); i != txns_.end()) i->second.s = before;
            reply(e);
          });
}

void txn_coordinator::end_txn(const coordinator_time& now, const std::string& transactional_id, int64_t producer_id,
                              int16_t epoch, bool commit, std::function<void(std::error_code)> reply) {
  auto it = txns_.find(transactional_id);
  if (it == txns_.end()) return reply(err(errc::invalid_producer_id_mapping));
  txn& t = it->second;
  if (auto e = check_producer(t, producer_id, epoch)) return reply(e);
  if (t.pending) return reply(err(errc::concurrent_transactions));
  switch (t.s.state) {
    case txn_state::ongoing: t.s.last_update_ms = now.wall_ms; return end(t, commit, std::move(reply));
    // A retry of an EndTxn whose answer was lost: the same outcome is success.
    case txn_state::complete_commit: return reply(commit ? std::error_code() : err(errc::invalid_txn_state));
    case txn_state::complete_abort: return reply(!commit ? std::error_code() : err(errc::invalid_txn_state));
    case txn_state::prepare_commit: return reply(err(commit ? errc::concurrent_transactions : errc::invalid_txn_state));
    case txn_state::prepare_abort: return reply(err(!commit ? errc::concurrent_transactions : errc::invalid_txn_state));
    case txn_state::empty:
    case txn_state::dead:
    case txn_state::prepare_epoch_fence: return reply(err(errc::invalid_txn_state));
  }
}

// --- time ---

void txn_coordinator::expire(const coordinator_time& now) {
  if (next_check_ && now.mono < *next_check_) return;
  next_check_ = now.mono + cfg_.abort_check_interval;
  std::vector<std::string> idle;
  for (auto& [id, t] : txns_) {
    if (t.pending) continue;
    if (t.s.state == txn_state::ongoing && t.s.start_ms >= 0 && now.wall_ms - t.s.start_ms > t.s.timeout_ms) {
      log().info("transaction {}: open for more than its timeout of {} ms; aborting it and fencing producer {}", id,
                 t.s.timeout_ms, t.s.producer_id);
      fence_and_abort(t, now);
    } else if ((t.s.state == txn_state::empty || t.s.state == txn_state::complete_commit ||
                t.s.state == txn_state::complete_abort) &&
               now.wall_ms - t.s.last_update_ms > cfg_.id_expiration.count()) {
      idle.push_back(id);
    }
  }
  for (const auto& id : idle) {
    txns_.erase(id);
    effects_.persist(txn_metadata_record{id, std::nullopt}, [id](std::error_code ec, const coordinator_time&) {
      if (ec) log().warn("transactional id {}: storing its expiry failed: {}", id, ec.message());
    });
  }
  if (!idle.empty()) log().info("{} idle transactional id(s) expired", idle.size());
}

// --- observation ---

std::vector<txn_description> txn_coordinator::describe(const std::vector<std::string>& ids) const {
  std::vector<txn_description> out;
  for (const auto& id : ids) {
    txn_description d;
    d.transactional_id = id;
    auto it = txns_.find(id);
    if (it == txns_.end()) {
      d.error = err(errc::transactional_id_not_found);
    } else {
      const stored_txn& s = it->second.s;
      d.state = s.state;
      d.timeout_ms = s.timeout_ms;
      d.start_ms = s.start_ms;
      d.producer_id = s.producer_id;
      d.producer_epoch = s.producer_epoch;
      d.partitions = s.partitions;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<txn_listing> txn_coordinator::list(const std::set<txn_state>& states, const std::set<int64_t>& producer_ids,
                                               std::optional<std::chrono::milliseconds> running_longer_than,
                                               const coordinator_time& now) const {
  std::vector<txn_listing> out;
  for (const auto& [id, t] : txns_) {
    if (!states.empty() && !states.contains(t.s.state)) continue;
    if (!producer_ids.empty() && !producer_ids.contains(t.s.producer_id)) continue;
    if (running_longer_than && (t.s.start_ms < 0 || now.wall_ms - t.s.start_ms <= running_longer_than->count()))
      continue;
    out.push_back({id, t.s.producer_id, t.s.state});
  }
  return out;
}

std::map<txn_state, size_t> txn_coordinator::count_by_state() const {
  std::map<txn_state, size_t> out;
  for (const auto& [id, t] : txns_) ++out[t.s.state];
  return out;
}

}  // namespace engine
