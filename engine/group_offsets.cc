// Committed offsets, group administration and durability of the group coordinator
// (engine/group_coordinator.h). Membership is in group_coordinator.cc.
#include <algorithm>
#include <cassert>
#include <memory>
#include <set>

#include "engine/consumer_protocol.h"
#include "engine/errc.h"
#include "engine/group_coordinator.h"
#include "engine/logger.h"

namespace engine {
namespace {

std::error_code err(errc e) { return make_error_code(e); }

}  // namespace

void group_coordinator::persist_group(group& g, const std::map<std::string, blob>* assignment,
                                      group_store::done_fn done) {
  auto value = g.snapshot(assignment);
  store_.persist(group_metadata_record{g.id(), value},
                 [this, gid = g.id(), inc = g.incarnation(), value, done = std::move(done)](
                     std::error_code ec, const coordinator_time& now) mutable {
                   group* gg = find(gid);
                   if (!ec && gg && gg->incarnation() == inc) stored_meta_[gid] = std::move(value);
                   done(ec, now);
                 });
}

std::vector<group_record> group_coordinator::restatement() const {
  std::vector<group_record> out;
  for (const auto& [id, g] : groups_) {
    if (auto m = stored_meta_.find(id); m != stored_meta_.end()) out.push_back(group_metadata_record{id, m->second});
    offsets_record offs{id, {}};
    for (const auto& [tp, off] : g->offsets()) offs.offsets.emplace_back(tp, off);
    if (!offs.offsets.empty()) out.push_back(std::move(offs));
    for (const auto& [pid, held] : g->txn_offsets()) {
      txn_offsets_record t{id, pid, {}};
      for (const auto& [tp, off] : held) t.offsets.emplace_back(tp, off);
      out.push_back(std::move(t));
    }
  }
  return out;
}

// --- start-up ---

void group_coordinator::load(const group_record& r) {
  assert(!started_);
  const coordinator_time unknown{};
  if (const auto* meta = std::get_if<group_metadata_record>(&r)) {
    if (!meta->value) {
      groups_.erase(meta->group_id);
      stored_meta_.erase(meta->group_id);
      return;
    }
    get_or_create(meta->group_id, unknown).restore(*meta->value);
    stored_meta_[meta->group_id] = *meta->value;
    return;
  }
  if (const auto* txn = std::get_if<txn_offsets_record>(&r)) {
    auto& pending = get_or_create(txn->group_id, unknown).txn_offsets()[txn->producer_id];
    for (const auto& [tp, off] : txn->offsets) pending[tp] = off;
    return;
  }
  if (const auto* marker = std::get_if<txn_marker_record>(&r)) {
    group* g = find(marker->group_id);
    if (!g) return;
    auto it = g->txn_offsets().find(marker->producer_id);
    if (it == g->txn_offsets().end()) return;
    if (marker->commit)
      for (auto& [tp, off] : it->second) g->offsets()[tp] = off;
    g->txn_offsets().erase(it);
    return;
  }
  const auto& rec = std::get<offsets_record>(r);
  group& g = get_or_create(rec.group_id, unknown);
  for (const auto& [tp, off] : rec.offsets) {
    if (off) g.offsets()[tp] = *off;
    else g.offsets().erase(tp);
  }
}

void group_coordinator::start(const coordinator_time& now,
                              const std::function<bool(const std::string&)>& topic_exists) {
  started_ = true;
  size_t members = 0;
  for (auto& [id, g] : groups_) {
    // A loaded generation carries on: its members have a fresh session to heartbeat in.
    for (auto& [mid, m] : g->members()) {
      touch(now, *g, m);
      ++members;
    }
    // Offsets of a topic deleted before its offsets' removal became durable.
    offsets_record gone{id, {}};
    for (auto it = g->offsets().begin(); it != g->offsets().end();) {
      if (topic_exists(it->first.topic)) {
        ++it;
        continue;
      }
      gone.offsets.emplace_back(it->first, std::nullopt);
      it = g->offsets().erase(it);
    }
    if (!gone.offsets.empty())
      store_.persist(std::move(gone), [gid = id](std::error_code ec, const coordinator_time&) {
        if (ec) log().warn("group {}: removing offsets of deleted topics failed: {}", gid, ec.message());
      });
  }
  timers_.arm({group_timer::retention, {}, {}}, now.mono + cfg_.offsets_retention_check_interval);
  log().info("group coordinator: {} group(s) loaded, {} member(s) resume their sessions", groups_.size(), members);
}

// --- OffsetCommit ---

std::error_code group_coordinator::validate_commit(const group& g, const commit_request& req) const {
  if (g.state() == group_state::dead) return err(errc::coordinator_not_available);
  // Generation -1 is a client that stores offsets without group management (kcat, assign()).
  if (req.generation < 0 && g.state() == group_state::empty) return {};
  if (req.generation >= 0 || !req.member_id.empty() || req.group_instance_id) {
    if (auto e = validate_member(g, req.member_id, req.group_instance_id)) return e;
    if (req.generation != g.generation()) return err(errc::illegal_generation);
    return {};
  }
  // A group with members takes commits from its members only.
  if (g.state() != group_state::empty) return err(errc::unknown_member_id);
  return {};
}

void group_coordinator::commit(const coordinator_time& now, commit_request req,
                               std::function<void(commit_result)> reply) {
  auto all = [&](std::error_code e) { reply(commit_result(req.offsets.size(), e)); };
  group* g = find(req.group_id);
  if (!g) {
    if (req.generation >= 0) return all(err(errc::illegal_generation));
    g = &get_or_create(req.group_id, now);  // the "simple consumer" group
  }
  if (auto e = validate_commit(*g, req)) return all(e);
  switch (g->state()) {
    case group_state::empty: break;
    case group_state::stable:
    case group_state::preparing_rebalance:
      // During a rebalance commits of the old generation still count: the heartbeat answer
      // tells the member to rejoin.
      if (g->has(req.member_id)) touch(now, *g, g->get(req.member_id));
      break;
    case group_state::completing_rebalance: return all(err(errc::rebalance_in_progress));
    case group_state::dead: return all(err(errc::coordinator_not_available));
  }
  store_offsets(now, *g, std::move(req), std::move(reply));
}

void group_coordinator::store_offsets(const coordinator_time& now, group& g, commit_request req,
                                      std::function<void(commit_result)> reply) {
  auto result = std::make_shared<commit_result>(req.offsets.size());
  offsets_record rec{g.id(), {}};
  std::vector<size_t> stored;  // indexes into req.offsets of what goes to disk
  for (size_t i = 0; i < req.offsets.size(); ++i) {
    auto& [tp, off] = req.offsets[i];
    if (off.metadata && off.metadata->size() > cfg_.max_metadata_bytes) {
      (*result)[i] = err(errc::offset_metadata_too_large);
      continue;
    }
    if (off.commit_timestamp_ms <= 0) off.commit_timestamp_ms = now.wall_ms;
    if (req.retention && req.retention->count() > 0)
      off.expire_timestamp_ms = off.commit_timestamp_ms + req.retention->count();
    ++g.pending_commits()[tp];
    rec.offsets.emplace_back(tp, off);
    stored.push_back(i);
  }
  if (stored.empty()) return reply(std::move(*result));
  auto applied = rec.offsets;
  store_.persist(std::move(rec), [this, gid = g.id(), inc = g.incarnation(), applied = std::move(applied),
                                  stored = std::move(stored), result,
                                  reply = std::move(reply)](std::error_code ec, const coordinator_time&) mutable {
    // A group deleted (and maybe recreated) since does not get these offsets: in the log its
    // removal comes after this commit too.
    group* gg = find(gid);
    const bool same = gg && gg->incarnation() == inc;
    for (auto& [tp, off] : applied) {
      if (!same) continue;
      // Its partition's offset was removed after this commit was sent: the removal wins.
      if (auto c = gg->cancelled_commits().find(tp); c != gg->cancelled_commits().end()) {
        if (--c->second <= 0) gg->cancelled_commits().erase(c);
        continue;
      }
      if (auto it = gg->pending_commits().find(tp); it != gg->pending_commits().end() && --it->second <= 0)
        gg->pending_commits().erase(it);
      if (!ec) gg->offsets()[tp] = std::move(*off);
    }
    if (!ec) offset_commits_ += stored.size();
    for (size_t i : stored) (*result)[i] = ec;
    reply(std::move(*result));
  });
}

// --- OffsetFetch ---

std::vector<fetched_offset> group_coordinator::fetch_offsets(const std::string& group_id,
                                                             const std::optional<std::vector<topic_partition>>& tps,
                                                             bool require_stable) const {
  std::vector<fetched_offset> out;
  const group* g = find(group_id);
  if (!tps) {
    if (!g) return out;
    for (const auto& [tp, off] : g->offsets()) {
      if (require_stable && (g->pending_commits().contains(tp) || g->has_txn_offset(tp)))
        out.push_back({tp, {}, err(errc::unstable_offset_commit)});
      else out.push_back({tp, off, {}});
    }
    return out;
  }
  for (const auto& tp : *tps) {
    fetched_offset f{tp, {}, {}};
    if (g) {
      if (require_stable && (g->pending_commits().contains(tp) || g->has_txn_offset(tp))) {
        f.error = err(errc::unstable_offset_commit);
      } else if (auto it = g->offsets().find(tp); it != g->offsets().end()) {
        f.offset = it->second;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

// --- transactions ---

void group_coordinator::txn_commit(const coordinator_time& now, txn_commit_request req,
                                   std::function<void(commit_result)> reply) {
  auto all = [&](std::error_code e) { reply(commit_result(req.offsets.size(), e)); };
  group& g = get_or_create(req.group_id, now);
  // Kafka's rule for transactional commits: membership is checked only when the producer names
  // a member or generation (TxnOffsetCommit v3+, consumer-group-aware producers).
  if (g.state() == group_state::dead) return all(err(errc::coordinator_not_available));
  if (req.generation >= 0 || !req.member_id.empty() || req.group_instance_id) {
    if (auto e = validate_member(g, req.member_id, req.group_instance_id)) return all(e);
    if (req.generation != g.generation()) return all(err(errc::illegal_generation));
  }
  auto result = std::make_shared<commit_result>(req.offsets.size());
  txn_offsets_record rec{g.id(), req.producer_id, {}};
  std::vector<size_t> stored;
  for (size_t i = 0; i < req.offsets.size(); ++i) {
    auto& [tp, off] = req.offsets[i];
    if (off.metadata && off.metadata->size() > cfg_.max_metadata_bytes) {
      (*result)[i] = err(errc::offset_metadata_too_large);
      continue;
    }
    if (off.commit_timestamp_ms <= 0) off.commit_timestamp_ms = now.wall_ms;
    rec.offsets.emplace_back(tp, off);
    stored.push_back(i);
  }
  if (stored.empty()) return reply(std::move(*result));
  auto held = rec.offsets;
  store_.persist(std::move(rec), [this, gid = g.id(), inc = g.incarnation(), pid = req.producer_id,
                                  held = std::move(held), stored = std::move(stored), result,
                                  reply = std::move(reply)](std::error_code ec, const coordinator_time&) mutable {
    group* gg = find(gid);
    if (!ec && gg && gg->incarnation() == inc) {
      auto& pending = gg->txn_offsets()[pid];
      for (auto& [tp, off] : held) pending[tp] = std::move(off);
    }
    for (size_t i : stored) (*result)[i] = ec;
    reply(std::move(*result));
  });
}

void group_coordinator::complete_txn(const std::string& group_id, int64_t producer_id, bool commit,
                                     group_store::done_fn done) {
  group* g = find(group_id);
  if (!g) return done({}, coordinator_time{});  // nothing of this transaction is left to settle
  store_.persist(txn_marker_record{group_id, producer_id, commit},
                 [this, gid = group_id, inc = g->incarnation(), producer_id, commit, done = std::move(done)](
                     std::error_code ec, const coordinator_time& now) {
                   group* gg = find(gid);
                   if (!ec && gg && gg->incarnation() == inc) {
                     auto it = gg->txn_offsets().find(producer_id);
                     if (it != gg->txn_offsets().end()) {
                       if (commit) {
                         for (auto& [tp, off] : it->second) gg->offsets()[tp] = off;
                         offset_commits_ += it->second.size();
                       }
                       gg->txn_offsets().erase(it);
                     }
                   }
                   done(ec, now);
                 });
}

// --- OffsetDelete and deleted topics ---

void group_coordinator::delete_offsets(const coordinator_time&, const std::string& group_id,
                                       std::vector<topic_partition> tps,
                                       std::function<void(std::error_code, std::vector<std::error_code>)> reply) {
  group* g = find(group_id);
  if (!g || g->state() == group_state::dead) return reply(err(errc::group_id_not_found), {});
  std::vector<std::error_code> errors(tps.size());
  std::vector<size_t> eligible;
  if (g->state() == group_state::empty) {
    for (size_t i = 0; i < tps.size(); ++i) eligible.push_back(i);
  } else if (g->protocol_type() == std::string(consumer_protocol_type)) {
    // An active consumer group may drop offsets of topics it no longer reads, not of those it
    // does (it would lose its position).
    const auto subscribed = g->subscribed_topics();
    for (size_t i = 0; i < tps.size(); ++i) {
      if (!subscribed || subscribed->contains(tps[i].topic)) errors[i] = err(errc::group_subscribed_to_topic);
      else eligible.push_back(i);
    }
  } else {
    return reply(err(errc::non_empty_group), {});
  }
  offsets_record rec{group_id, {}};
  for (size_t i : eligible)
    if (g->remove_offset(tps[i])) rec.offsets.emplace_back(tps[i], std::nullopt);
  if (rec.offsets.empty()) return reply({}, std::move(errors));
  store_.persist(std::move(rec), [errors = std::move(errors), eligible = std::move(eligible), reply = std::move(reply)](
                                     std::error_code ec, const coordinator_time&) mutable {
    for (size_t i : eligible) errors[i] = ec;
    reply({}, std::move(errors));
  });
}

void group_coordinator::topic_deleted(const std::string& topic) {
  size_t removed = 0;
  for (auto& [id, g] : groups_) {
    // Committed offsets, and commits on their way (which must not land after the removal).
    std::set<topic_partition> tps;
    for (const auto& [tp, off] : g->offsets())
      if (tp.topic == topic) tps.insert(tp);
    for (const auto& [tp, n] : g->pending_commits())
      if (tp.topic == topic) tps.insert(tp);
    if (tps.empty()) continue;
    offsets_record rec{id, {}};
    for (const auto& tp : tps) {
      g->remove_offset(tp);
      rec.offsets.emplace_back(tp, std::nullopt);
    }
    removed += rec.offsets.size();
    store_.persist(std::move(rec), [gid = id, topic](std::error_code ec, const coordinator_time&) {
      if (ec) log().warn("group {}: removing offsets of deleted topic {} failed: {}", gid, topic, ec.message());
    });
  }
  if (removed) log().info("topic {} deleted: {} committed offset(s) removed", topic, removed);
}

// --- offsets retention ---

void group_coordinator::expire_offsets(const coordinator_time& now) {
  const int64_t retention = cfg_.offsets_retention.count();
  std::vector<std::string> dead;
  size_t expired = 0;
  for (auto& [id, gp] : groups_) {
    group& g = *gp;
    // Kafka's rule: an Empty group's offsets expire together, `retention` after it became Empty;
    // a Stable consumer group's offsets of topics it no longer subscribes to, and a simple
    // group's offsets, `retention` after their commit. An explicit expire time wins.
    std::optional<int64_t> base;  // nullopt: per-offset commit time
    std::optional<std::set<std::string>> keep;
    if (g.protocol_type() && g.state() == group_state::empty) {
      base = g.state_timestamp_ms();
    } else if (g.protocol_type() == std::string(consumer_protocol_type) && g.state() == group_state::stable) {
      keep = g.subscribed_topics();
      if (!keep) continue;
    } else if (g.protocol_type()) {
      continue;
    }
    offsets_record rec{id, {}};
    for (auto it = g.offsets().begin(); it != g.offsets().end();) {
      const auto& [tp, off] = *it;
      const bool expires =
          !(keep && keep->contains(tp.topic)) && !g.pending_commits().contains(tp) &&
          (off.expire_timestamp_ms ? now.wall_ms >= *off.expire_timestamp_ms
                                   : now.wall_ms - base.value_or(off.commit_timestamp_ms) >= retention);
      if (!expires) {
        ++it;
        continue;
      }
      rec.offsets.emplace_back(tp, std::nullopt);
      it = g.offsets().erase(it);
    }
    expired += rec.offsets.size();
    if (g.state() == group_state::empty && !g.has_offsets() && g.pending_members().empty()) {
      dead.push_back(id);  // its removal record removes its offsets too
    } else if (!rec.offsets.empty()) {
      store_.persist(std::move(rec), [gid = id](std::error_code ec, const coordinator_time&) {
        if (ec) log().warn("group {}: storing expired offsets failed: {}", gid, ec.message());
      });
    }
  }
  for (const auto& id : dead) {
    erase_group(id);
    store_.persist(group_metadata_record{id, std::nullopt}, [id](std::error_code ec, const coordinator_time&) {
      if (ec) log().warn("group {}: storing its removal failed: {}", id, ec.message());
    });
  }
  expired_offsets_ += expired;
  if (expired || !dead.empty())
    log().info("offsets retention: {} offset(s) expired, {} empty group(s) removed", expired, dead.size());
}

// --- administration ---

std::vector<group_overview> group_coordinator::list(const std::set<group_state>& states) const {
  std::vector<group_overview> out;
  for (const auto& [id, g] : groups_) {
    if (g->state() == group_state::dead) continue;
    if (!states.empty() && !states.contains(g->state())) continue;
    out.push_back({id, g->protocol_type().value_or(""), g->state()});
  }
  return out;
}

group_description group_coordinator::describe(const std::string& group_id) const {
  group_description d;
  d.group_id = group_id;
  const group* g = find(group_id);
  if (!g) return d;  // Dead, as Kafka answers for a group it does not know
  d.state = g->state();
  d.protocol_type = g->protocol_type().value_or("");
  const bool stable = g->state() == group_state::stable && g->protocol_name();
  if (stable) d.protocol_name = *g->protocol_name();
  for (const auto& [id, m] : g->members()) {
    described_member dm{id, m.instance_id, m.client_id, m.client_host, {}, {}};
    if (stable) {
      dm.metadata = m.metadata(*g->protocol_name());
      dm.assignment = m.assignment;
    }
    d.members.push_back(std::move(dm));
  }
  return d;
}

void group_coordinator::delete_groups(const coordinator_time&, std::vector<std::string> group_ids,
                                      std::function<void(std::vector<std::error_code>)> reply) {
  struct pending {
    std::vector<std::error_code> errors;
    size_t left = 0;
    std::function<void(std::vector<std::error_code>)> reply;
  };
  auto p = std::make_shared<pending>();
  p->errors.resize(group_ids.size());
  p->reply = std::move(reply);
  std::vector<size_t> removed;
  for (size_t i = 0; i < group_ids.size(); ++i) {
    group* g = find(group_ids[i]);
    if (!g || g->state() == group_state::dead) {
      p->errors[i] = err(errc::group_id_not_found);
    } else if (g->state() != group_state::empty) {
      p->errors[i] = err(errc::non_empty_group);
    } else {
      erase_group(group_ids[i]);
      removed.push_back(i);
    }
  }
  if (removed.empty()) return p->reply(std::move(p->errors));
  p->left = removed.size();
  for (size_t i : removed) {
    log().info("group {} deleted", group_ids[i]);
    store_.persist(group_metadata_record{group_ids[i], std::nullopt},
                   [p, i](std::error_code ec, const coordinator_time&) {
                     p->errors[i] = ec;
                     if (--p->left == 0) p->reply(std::move(p->errors));
                   });
  }
}

// --- observation ---

coordinator_stats group_coordinator::stats() const {
  coordinator_stats s;
  s.groups = groups_.size();
  for (const auto& [id, g] : groups_) {
    s.members += g->size();
    ++s.by_state[g->state()];
  }
  s.rebalances = rebalances_;
  s.offset_commits = offset_commits_;
  s.expired_offsets = expired_offsets_;
  return s;
}

std::vector<committed_view> group_coordinator::committed_offsets() const {
  std::vector<committed_view> out;
  for (const auto& [id, g] : groups_)
    for (const auto& [tp, off] : g->offsets()) out.push_back({id, tp, off.offset});
  return out;
}

}  // namespace engine
