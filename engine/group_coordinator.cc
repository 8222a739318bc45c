// The group membership protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the timers that
// end join phases and sessions. Offsets and administration are in group_offsets.cc.
//
// The transitions follow Kafka's classic GroupCoordinator, which clients are written against;
// where kairo differs it says why.
#include "engine/group_coordinator.h"

#include <algorithm>
#include <cassert>

#include "engine/errc.h"
#include "engine/logger.h"

namespace engine {
namespace {

std::error_code err(errc e) { return make_error_code(e); }

join_result join_error(std::error_code e, std::string member_id) {
  join_result r;
  r.error = e;
  r.member_id = std::move(member_id);
  return r;
}

sync_result sync_error(std::error_code e) {
  sync_result r;
  r.error = e;
  return r;
}

template <class F>
F take(F& f) {
  F out = std::move(f);
  f = nullptr;
  return out;
}

}  // namespace

group_coordinator::group_coordinator(group_config cfg, group_store& store, std::function<std::string()> new_id)
    : cfg_(cfg), store_(store), new_id_(std::move(new_id)) {}

group* group_coordinator::find(const std::string& id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

const group* group_coordinator::find(const std::string& id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

group& group_coordinator::get_or_create(const std::string& id, const coordinator_time& now) {
  auto& slot = groups_[id];
  if (!slot) {
    slot = std::make_unique<group>(id);
    slot->set_incarnation(++incarnations_);
    slot->transition(group_state::empty, now.wall_ms);
  }
  return *slot;
}

void group_coordinator::erase_group(const std::string& id) {
  auto it = groups_.find(id);
  if (it == groups_.end()) return;
  group& g = *it->second;
  assert(g.empty());
  for (const auto& p : g.pending_members()) timers_.disarm({group_timer::pending_member, id, p});
  timers_.disarm({group_timer::join, id, {}});
  timers_.disarm({group_timer::sync, id, {}});
  groups_.erase(it);
  stored_meta_.erase(id);
}

void group_coordinator::touch(const coordinator_time& now, group& g, const group_member& m) {
  timers_.arm({group_timer::heartbeat, g.id(), m.id}, now.mono + m.session_timeout);
}

std::error_code group_coordinator::validate_member(const group& g, const std::string& member_id,
                                                   const std::optional<std::string>& instance_id) const {
  if (instance_id) {
    auto current = g.static_member(*instance_id);
    if (!current) return err(errc::unknown_member_id);
    if (*current != member_id) return err(errc::fenced_instance_id);
    return {};
  }
  if (!g.has(member_id)) return err(errc::unknown_member_id);
  return {};
}

join_result group_coordinator::current_generation(const group& g, const std::string& member_id,
                                                  bool with_members) const {
  join_result r;
  r.generation = g.generation();
  r.protocol_type = g.protocol_type();
  r.protocol_name = g.protocol_name();
  r.leader = g.leader().value_or("");
  r.member_id = member_id;
  if (with_members && g.protocol_name())
    for (const auto& [id, m] : g.members()) r.members.push_back({id, m.instance_id, m.metadata(*g.protocol_name())});
  return r;
}

// --- JoinGroup ---

void group_coordinator::join(const coordinator_time& now, join_request req, join_reply reply) {
  if (req.group_id.empty()) return reply(join_error(err(errc::invalid_group_id), req.member_id));
  if (req.session_timeout < cfg_.min_session_timeout || req.session_timeout > cfg_.max_session_timeout)
    return reply(join_error(err(errc::invalid_session_timeout), req.member_id));
  if (req.rebalance_timeout <= std::chrono::milliseconds::zero()) req.rebalance_timeout = req.session_timeout;

  const bool new_member = req.member_id.empty();
  group* g = find(req.group_id);
  if (!g) {
    // A member id for a group the broker does not know: it was removed, rejoin from scratch.
    if (!new_member) return reply(join_error(err(errc::unknown_member_id), req.member_id));
    g = &get_or_create(req.group_id, now);
  }

  // group.max.size: members already waiting in this rebalance are always let back in.
  bool accepted = true;
  switch (g->state()) {
    case group_state::empty:
    case group_state::dead: break;
    case group_state::preparing_rebalance:
      accepted = (g->has(req.member_id) && g->get(req.member_id).awaiting_join) ||
                 g->awaiting_join_count() < cfg_.max_group_size;
      break;
    case group_state::completing_rebalance:
    case group_state::stable: accepted = g->has(req.member_id) || g->size() < cfg_.max_group_size; break;
  }
  if (!accepted) {
    if (g->has(req.member_id)) remove_member(now, *g, req.member_id, "the group is at group.max.size");
    g->pending_members().erase(req.member_id);
    reply(join_error(err(errc::group_max_size_reached), ""));
  } else if (new_member) {
    join_new_member(now, *g, req, reply);
  } else {
    join_current_member(now, *g, req, reply);
  }
  if (g->state() == group_state::preparing_rebalance) try_complete_join(now, *g);
  // A group created by a join that added nobody is not kept.
  if (g->state() == group_state::empty && g->empty() && g->pending_members().empty() && !g->has_offsets() &&
      g->generation() == 0)
    erase_group(g->id());
}

void group_coordinator::join_new_member(const coordinator_time& now, group& g, join_request& req, join_reply& reply) {
  if (g.state() == group_state::dead) return reply(join_error(err(errc::coordinator_not_available), ""));
  if (!g.supports(req.protocol_type, req.protocols))
    return reply(join_error(err(errc::inconsistent_group_protocol), ""));
  std::string id = (req.group_instance_id ? *req.group_instance_id : req.client_id) + "-" + new_id_();
  if (req.group_instance_id) {
    // Static members skip MEMBER_ID_REQUIRED: their instance id already identifies them.
    if (auto old = g.static_member(*req.group_instance_id))
      return replace_static_member(now, g, req, *old, std::move(id), std::move(reply));
    return add_member_and_rebalance(now, g, req, std::move(id), std::move(reply));
  }
  if (req.require_known_member_id) {
    // v4+: the member must come back with this id; until then it holds up the join phase, for
    // at most its session timeout.
    g.pending_members().insert(id);
    timers_.arm({group_timer::pending_member, g.id(), id}, now.mono + req.session_timeout);
    return reply(join_error(err(errc::member_id_required), id));
  }
  add_member_and_rebalance(now, g, req, std::move(id), std::move(reply));
}

void group_coordinator::join_current_member(const coordinator_time& now, group& g, join_request& req,
                                            join_reply& reply) {
  if (g.state() == group_state::dead) return reply(join_error(err(errc::coordinator_not_available), req.member_id));
  if (!g.supports(req.protocol_type, req.protocols))
    return reply(join_error(err(errc::inconsistent_group_protocol), req.member_id));
  // A pending member is dynamic (static members never get MEMBER_ID_REQUIRED): a pending id sent
  // with an instance id is validated like any other id, so that it cannot take over an instance.
  if (!req.group_instance_id && g.pending_members().contains(req.member_id)) {
    timers_.disarm({group_timer::pending_member, g.id(), req.member_id});
    const std::string id = req.member_id;
    return add_member_and_rebalance(now, g, req, id, std::move(reply));
  }
  if (auto e = validate_member(g, req.member_id, req.group_instance_id)) return reply(join_error(e, req.member_id));
  group_member& m = g.get(req.member_id);
  switch (g.state()) {
    case group_state::preparing_rebalance:
      return update_member_and_rebalance(now, g, m, req, std::move(reply), "member " + m.id + " rejoined");
    case group_state::completing_rebalance:
      // The same metadata again: it most likely lost the first answer; give it the same one.
      if (m.matches(req.protocols)) return reply(current_generation(g, m.id, g.is_leader(m.id)));
      return update_member_and_rebalance(now, g, m, req, std::move(reply),
                                         "member " + m.id + " changed its metadata during the rebalance");
    case group_state::stable:
      // A leader's rejoin is how clients ask for a new assignment (e.g. new partitions).
      if (g.is_leader(m.id))
        return update_member_and_rebalance(now, g, m, req, std::move(reply), "leader " + m.id + " rejoined");
      if (!m.matches(req.protocols))
        return update_member_and_rebalance(now, g, m, req, std::move(reply),
                                           "member " + m.id + " changed its metadata");
      return reply(current_generation(g, m.id, false));
    case group_state::empty:
    case group_state::dead: return reply(join_error(err(errc::unknown_member_id), req.member_id));
  }
}

void group_coordinator::add_member_and_rebalance(const coordinator_time& now, group& g, join_request& req,
                                                 std::string member_id, join_reply reply) {
  group_member m;
  m.id = std::move(member_id);
  m.instance_id = req.group_instance_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout = req.session_timeout;
  m.rebalance_timeout = req.rebalance_timeout;
  m.protocol_type = req.protocol_type;
  m.protocols = std::move(req.protocols);
  m.awaiting_join = std::move(reply);
  // Arrivals during a first rebalance stretch its initial delay (so a group that starts
  // together rebalances once).
  if (g.state() == group_state::preparing_rebalance && g.generation() == 0) g.phase().new_member_added = true;
  const std::string id = m.id;
  g.add(std::move(m));
  maybe_prepare_rebalance(now, g, "member " + id + " joined");
}

void group_coordinator::update_member_and_rebalance(const coordinator_time& now, group& g, group_member& m,
                                                    join_request& req, join_reply reply, const std::string& reason) {
  // Every parked request gets an answer: a member that joins again while its earlier JoinGroup
  // is parked (a client that timed out and retried, maybe on a new connection) gets the earlier
  // one answered with REBALANCE_IN_PROGRESS, which clients treat as "join again".
  if (m.awaiting_join) take(m.awaiting_join)(join_error(err(errc::rebalance_in_progress), m.id));
  g.update(m, std::move(req.protocols), req.session_timeout, req.rebalance_timeout);
  m.awaiting_join = std::move(reply);
  maybe_prepare_rebalance(now, g, reason);
}

void group_coordinator::replace_static_member(const coordinator_time& now, group& g, join_request& req,
                                              const std::string& old_id, std::string new_id, join_reply reply) {
  const auto old_leader = g.leader();
  {
    group_member& old = g.get(old_id);
    if (old.awaiting_join) take(old.awaiting_join)(join_error(err(errc::fenced_instance_id), old_id));
    if (old.awaiting_sync) take(old.awaiting_sync)(sync_error(err(errc::fenced_instance_id)));
  }
  timers_.disarm({group_timer::heartbeat, g.id(), old_id});
  group_member& m = g.replace_static(*req.group_instance_id, old_id, new_id);
  log().info("group {}: static member {} rejoined; member {} replaces {}", g.id(), *req.group_instance_id, new_id,
             old_id);
  touch(now, g, m);
  g.update(m, std::move(req.protocols), req.session_timeout, req.rebalance_timeout);
  m.awaiting_join = std::move(reply);
  switch (g.state()) {
    case group_state::stable: {
      if (g.protocol_name() != g.select_protocol()) {
        maybe_prepare_rebalance(now, g, "static member " + new_id + " changed the group's protocol");
        return;
      }
      // Nothing changed for the group: no rebalance. The new member id is stored first, so that
      // a restart does not bring the fenced one back.
      const bool skip = req.supports_skip_assignment;
      persist_group(g, nullptr,
                    [this, gid = g.id(), inc = g.incarnation(), new_id, old_leader, skip](std::error_code ec,
                                                                                          const coordinator_time&) {
                      group* gg = find(gid);
                      if (!gg || gg->incarnation() != inc || !gg->has(new_id)) return;
                      group_member& mm = gg->get(new_id);
                      if (!mm.awaiting_join || gg->state() != group_state::stable) return;  // a rebalance answers it
                      if (ec) return take(mm.awaiting_join)(join_error(ec, ""));
                      const bool leads = gg->is_leader(new_id);
                      // v9+ can tell the leader to skip the assignment; older clients are given the old
                      // leader id, so that a replaced leader does not assign (a Stable group would ignore it).
                      join_result r = current_generation(*gg, new_id, skip && leads);
                      if (skip) r.skip_assignment = leads;
                      else r.leader = old_leader.value_or("");
                      take(mm.awaiting_join)(std::move(r));
                    });
      return;
    }
    case group_state::completing_rebalance:
      // The leader may be assigning to the old member id: start over.
      prepare_rebalance(now, g, "static member " + new_id + " rejoined during the assignment");
      return;
    case group_state::preparing_rebalance: return;  // it is simply one more member that joined
    case group_state::empty:
    case group_state::dead: assert(false && "a group with a static member is not Empty or Dead"); return;
  }
}

// --- rebalances ---

void group_coordinator::maybe_prepare_rebalance(const coordinator_time& now, group& g, const std::string& reason) {
  switch (g.state()) {
    case group_state::empty:
    case group_state::completing_rebalance:
    case group_state::stable: prepare_rebalance(now, g, reason); break;
    case group_state::preparing_rebalance:
    case group_state::dead: break;
  }
}

void group_coordinator::prepare_rebalance(const coordinator_time& now, group& g, const std::string& reason) {
  if (g.state() == group_state::completing_rebalance) {
    for (auto& [id, m] : g.members()) m.assignment.clear();
    propagate_assignment(now, g, err(errc::rebalance_in_progress));
  }
  g.pending_sync().clear();
  timers_.disarm({group_timer::sync, g.id(), {}});
  auto& ph = g.phase();
  if (g.state() == group_state::empty) {
    // group.initial.rebalance.delay.ms, re-armed while members keep arriving, within the
    // rebalance timeout.
    ph = {true, false, cfg_.initial_rebalance_delay,
          std::max(g.rebalance_timeout() - cfg_.initial_rebalance_delay, std::chrono::milliseconds::zero())};
  } else {
    ph = {false, false, g.rebalance_timeout(), std::chrono::milliseconds::zero()};
  }
  timers_.arm({group_timer::join, g.id(), {}}, now.mono + ph.delay);
  log().info("group {}: preparing to rebalance generation {} ({})", g.id(), g.generation(), reason);
  g.transition(group_state::preparing_rebalance, now.wall_ms);
  try_complete_join(now, g);
}

void group_coordinator::try_complete_join(const coordinator_time& now, group& g) {
  // The initial delay is waited out even when everyone is there: more may be on their way.
  if (g.state() == group_state::preparing_rebalance && !g.phase().initial && g.all_joined()) complete_join(now, g);
}

void group_coordinator::complete_join(const coordinator_time& now, group& g) {
  timers_.disarm({group_timer::join, g.id(), {}});
  // Dynamic members that did not rejoin in time are out; static ones keep their place until
  // their session expires.
  std::vector<std::string> gone;
  for (const auto& [id, m] : g.members())
    if (!m.awaiting_join && !m.instance_id) gone.push_back(id);
  for (const auto& id : gone) drop_member(g, id);
  if (!gone.empty()) log().info("group {}: {} member(s) did not rejoin in time and were removed", g.id(), gone.size());
  if (g.state() == group_state::dead) return;
  if (!g.elect_joined_leader() && !g.empty()) {
    // Only static members are left and none rejoined: wait another round for them.
    g.phase() = {false, false, g.rebalance_timeout(), std::chrono::milliseconds::zero()};
    timers_.arm({group_timer::join, g.id(), {}}, now.mono + g.phase().delay);
    return;
  }
  g.next_generation(now.wall_ms);
  if (g.state() == group_state::empty) {
    log().info("group {}: generation {} is empty", g.id(), g.generation());
    // Nobody waits for this write; a failure leaves the previous generation stored, whose
    // members then simply expire after a restart.
    persist_group(g, nullptr, [gid = g.id()](std::error_code ec, const coordinator_time&) {
      if (ec) log().warn("group {}: storing the empty group failed: {}", gid, ec.message());
    });
    return;
  }
  ++rebalances_;
  log().info("group {}: generation {} with {} member(s), protocol {}, leader {}", g.id(), g.generation(), g.size(),
             g.protocol_name().value_or(""), g.leader().value_or(""));
  for (auto& [id, m] : g.members()) {
    if (m.awaiting_join) take(m.awaiting_join)(current_generation(g, id, g.is_leader(id)));
    touch(now, g, m);
    g.pending_sync().insert(id);
  }
  // Members that got their generation must send SyncGroup within the rebalance timeout.
  timers_.arm({group_timer::sync, g.id(), {}}, now.mono + g.rebalance_timeout());
}

void group_coordinator::drop_member(group& g, const std::string& member_id) {
  group_member& m = g.get(member_id);
  // A removed member's parked requests are answered, so that its connection's later answers are
  // not held behind them for ever.
  if (m.awaiting_join) take(m.awaiting_join)(join_error(err(errc::unknown_member_id), ""));
  if (m.awaiting_sync) take(m.awaiting_sync)(sync_error(err(errc::unknown_member_id)));
  timers_.disarm({group_timer::heartbeat, g.id(), member_id});
  g.remove(member_id);
}

void group_coordinator::remove_member(const coordinator_time& now, group& g, const std::string& member_id,
                                      const std::string& reason) {
  drop_member(g, member_id);
  log().info("group {}: member {} removed ({})", g.id(), member_id, reason);
  switch (g.state()) {
    case group_state::empty:
    case group_state::dead: break;
    case group_state::stable:
    case group_state::completing_rebalance: maybe_prepare_rebalance(now, g, reason); break;
    case group_state::preparing_rebalance: try_complete_join(now, g); break;
  }
}

void group_coordinator::remove_pending_member(const coordinator_time& now, group& g, const std::string& member_id) {
  g.pending_members().erase(member_id);
  timers_.disarm({group_timer::pending_member, g.id(), member_id});
  try_complete_join(now, g);
}

// --- SyncGroup ---

void group_coordinator::sync(const coordinator_time& now, sync_request req, sync_reply reply) {
  if (req.group_id.empty()) return reply(sync_error(err(errc::invalid_group_id)));
  group* g = find(req.group_id);
  if (!g) return reply(sync_error(err(errc::unknown_member_id)));
  if (g->state() == group_state::dead) return reply(sync_error(err(errc::coordinator_not_available)));
  if (auto e = validate_member(*g, req.member_id, req.group_instance_id)) return reply(sync_error(e));
  if (req.generation != g->generation()) return reply(sync_error(err(errc::illegal_generation)));
  if ((req.protocol_type && req.protocol_type != g->protocol_type()) ||
      (req.protocol_name && req.protocol_name != g->protocol_name()))
    return reply(sync_error(err(errc::inconsistent_group_protocol)));

  switch (g->state()) {
    case group_state::empty: return reply(sync_error(err(errc::unknown_member_id)));
    case group_state::preparing_rebalance: return reply(sync_error(err(errc::rebalance_in_progress)));
    case group_state::dead: return;  // refused above
    case group_state::stable: {
      g->pending_sync().erase(req.member_id);
      if (g->pending_sync().empty()) timers_.disarm({group_timer::sync, g->id(), {}});
      group_member& m = g->get(req.member_id);
      sync_result r;
      r.protocol_type = g->protocol_type();
      r.protocol_name = g->protocol_name();
      r.assignment = m.assignment;
      reply(std::move(r));
      touch(now, *g, m);
      return;
    }
    case group_state::completing_rebalance: break;
  }

  group_member& m = g->get(req.member_id);
  if (m.awaiting_sync) take(m.awaiting_sync)(sync_error(err(errc::rebalance_in_progress)));
  m.awaiting_sync = std::move(reply);
  g->pending_sync().erase(req.member_id);
  if (g->pending_sync().empty()) timers_.disarm({group_timer::sync, g->id(), {}});
  if (!g->is_leader(req.member_id)) return;  // followers wait for the leader's assignment

  // Members the leader left out get an empty assignment; entries for strangers are ignored.
  std::map<std::string, blob> assignment;
  for (const auto& [id, mm] : g->members()) assignment[id];
  for (auto& [id, a] : req.assignments)
    if (auto it = assignment.find(id); it != assignment.end()) it->second = std::move(a);
  // The assignment is stored before anyone sees it, so a restarted broker resumes this
  // generation instead of handing out one its members never agreed on.
  persist_group(*g, &assignment,
                [this, gid = g->id(), inc = g->incarnation(), gen = g->generation(), assignment](
                    std::error_code ec, const coordinator_time& t) mutable {
                  group* gg = find(gid);
                  if (!gg || gg->incarnation() != inc || gg->state() != group_state::completing_rebalance ||
                      gg->generation() != gen)
                    return;  // the group moved on meanwhile; whoever moved it answered the members
                  if (ec) {
                    for (auto& [id, mm] : gg->members()) mm.assignment.clear();
                    propagate_assignment(t, *gg, ec);
                    maybe_prepare_rebalance(t, *gg, "storing the assignment failed: " + ec.message());
                    return;
                  }
                  for (auto& [id, mm] : gg->members()) mm.assignment = std::move(assignment[id]);
                  propagate_assignment(t, *gg, {});
                  gg->transition(group_state::stable, t.wall_ms);
                });
}

void group_coordinator::propagate_assignment(const coordinator_time& now, group& g, std::error_code error) {
  for (auto& [id, m] : g.members()) {
    if (!m.awaiting_sync) continue;
    sync_result r;
    r.error = error;
    if (!error) {
      r.protocol_type = g.protocol_type();
      r.protocol_name = g.protocol_name();
      r.assignment = m.assignment;
    }
    take(m.awaiting_sync)(std::move(r));
    touch(now, g, m);
  }
}

// --- Heartbeat and LeaveGroup ---

std::error_code group_coordinator::heartbeat(const coordinator_time& now, const heartbeat_request& req) {
  if (req.group_id.empty()) return err(errc::invalid_group_id);
  group* g = find(req.group_id);
  if (!g) return err(errc::unknown_member_id);
  if (g->state() == group_state::dead) return err(errc::coordinator_not_available);
  if (auto e = validate_member(*g, req.member_id, req.group_instance_id)) return e;
  if (req.generation != g->generation()) return err(errc::illegal_generation);
  switch (g->state()) {
    case group_state::empty:
    case group_state::dead: return err(errc::unknown_member_id);
    case group_state::completing_rebalance:
    case group_state::stable: touch(now, *g, g->get(req.member_id)); return {};
    case group_state::preparing_rebalance:
      // Still counts as liveness: the member learns it must rejoin.
      touch(now, *g, g->get(req.member_id));
      return err(errc::rebalance_in_progress);
  }
  return {};
}

leave_result group_coordinator::leave(const coordinator_time& now, const std::string& group_id,
                                      const std::vector<leave_member>& members) {
  leave_result r;
  if (group_id.empty()) {
    r.error = err(errc::invalid_group_id);
    return r;
  }
  group* g = find(group_id);
  if (!g) {
    r.members.assign(members.size(), err(errc::unknown_member_id));
    return r;
  }
  if (g->state() == group_state::dead) {
    r.error = err(errc::coordinator_not_available);
    return r;
  }
  for (const auto& lm : members) {
    const std::string why = "left the group" + (lm.reason.empty() ? std::string() : ": " + lm.reason);
    if (lm.member_id.empty()) {
      // An administrator removing a static member by its instance id alone.
      auto current = lm.group_instance_id ? g->static_member(*lm.group_instance_id) : std::nullopt;
      if (!current) {
        r.members.push_back(err(errc::unknown_member_id));
        continue;
      }
      remove_member(now, *g, *current, why);
      r.members.emplace_back();
    } else if (g->pending_members().contains(lm.member_id)) {
      remove_pending_member(now, *g, lm.member_id);
      r.members.emplace_back();
    } else if (auto e = validate_member(*g, lm.member_id, lm.group_instance_id)) {
      r.members.push_back(e);
    } else {
      remove_member(now, *g, lm.member_id, why);
      r.members.emplace_back();
    }
  }
  return r;
}

void group_coordinator::abandon_parked() {
  for (auto& [gid, g] : groups_)
    for (auto& [id, m] : g->members()) {
      if (m.awaiting_join) take(m.awaiting_join)(join_error(err(errc::shutting_down), id));
      if (m.awaiting_sync) take(m.awaiting_sync)(sync_error(err(errc::shutting_down)));
    }
}

// --- timers ---

void group_coordinator::expire(const coordinator_time& now) {
  while (auto k = timers_.pop_due(now.mono)) on_timer(now, *k);
}

void group_coordinator::on_timer(const coordinator_time& now, const timer_key& k) {
  if (k.kind == group_timer::retention) {
    expire_offsets(now);
    timers_.arm({group_timer::retention, {}, {}}, now.mono + cfg_.offsets_retention_check_interval);
    return;
  }
  group* g = find(k.group);
  if (!g) return;
  switch (k.kind) {
    case group_timer::heartbeat: {
      if (!g->has(k.member)) return;
      group_member& m = g->get(k.member);
      // A member whose JoinGroup or SyncGroup is parked is waiting on the group, not gone.
      if (m.awaiting_join || m.awaiting_sync) return touch(now, *g, m);
      remove_member(now, *g, k.member, "no heartbeat within its session timeout");
      return;
    }
    case group_timer::pending_member:
      if (g->pending_members().contains(k.member)) remove_pending_member(now, *g, k.member);
      return;
    case group_timer::join: {
      if (g->state() != group_state::preparing_rebalance) return;
      auto& ph = g->phase();
      if (ph.initial && ph.new_member_added && ph.remaining > std::chrono::milliseconds::zero()) {
        ph.new_member_added = false;
        const auto delay = std::min(cfg_.initial_rebalance_delay, ph.remaining);
        ph.remaining = std::max(ph.remaining - ph.delay, std::chrono::milliseconds::zero());
        ph.delay = delay;
        timers_.arm({group_timer::join, g->id(), {}}, now.mono + delay);
        return;
      }
      complete_join(now, *g);
      return;
    }
    case group_timer::sync: {
      if ((g->state() != group_state::completing_rebalance && g->state() != group_state::stable) ||
          g->pending_sync().empty())
        return;
      const std::set<std::string> late = g->pending_sync();
      for (const auto& id : late) drop_member(*g, id);
      prepare_rebalance(now, *g,
                        std::to_string(late.size()) + " member(s) sent no SyncGroup within the rebalance timeout");
      return;
    }
    case group_timer::retention: return;
  }
}

}  // namespace engine
