#include "engine/group.h"

#include <algorithm>
#include <cassert>
#include <cctype>

#include "engine/consumer_protocol.h"

namespace engine {

std::string_view to_string(group_state s) {
  switch (s) {
    case group_state::empty: return "Empty";
    case group_state::preparing_rebalance: return "PreparingRebalance";
    case group_state::completing_rebalance: return "CompletingRebalance";
    case group_state::stable: return "Stable";
    case group_state::dead: return "Dead";
  }
  return "Unknown";
}

std::optional<group_state> parse_group_state(std::string_view s) {
  auto lower = [](std::string_view v) {
    std::string out(v);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string want = lower(s);
  for (auto st : {group_state::empty, group_state::preparing_rebalance, group_state::completing_rebalance,
                  group_state::stable, group_state::dead})
    if (lower(to_string(st)) == want) return st;
  return std::nullopt;
}

const blob& group_member::metadata(const std::string& protocol) const {
  static const blob none;
  for (const auto& p : protocols)
    if (p.name == protocol) return p.metadata;
  return none;
}

void group::transition(group_state to, int64_t wall_ms) {
  state_ = to;
  state_timestamp_ms_ = wall_ms;
}

void group::add(group_member m) {
  assert(supports(m.protocol_type, m.protocols));
  assert(!members_.contains(m.id));
  if (members_.empty()) protocol_type_ = m.protocol_type;
  if (!leader_) leader_ = m.id;
  if (m.instance_id) {
    assert(!static_members_.contains(*m.instance_id));
    static_members_[*m.instance_id] = m.id;
  }
  pending_members_.erase(m.id);
  const std::string id = m.id;
  members_.emplace(id, std::move(m));
}

void group::remove(const std::string& member) {
  if (auto it = members_.find(member); it != members_.end()) {
    if (it->second.instance_id) static_members_.erase(*it->second.instance_id);
    members_.erase(it);
  }
  if (is_leader(member)) leader_ = members_.empty() ? std::nullopt : std::optional(members_.begin()->first);
  pending_members_.erase(member);
  pending_sync_.erase(member);
}

group_member& group::replace_static(const std::string& instance, const std::string& old_id, const std::string& new_id) {
  auto node = members_.extract(old_id);
  assert(!node.empty());
  node.key() = new_id;
  node.mapped().id = new_id;
  auto& m = members_.insert(std::move(node)).position->second;
  if (is_leader(old_id)) leader_ = new_id;
  static_members_[instance] = new_id;
  if (pending_sync_.erase(old_id)) pending_sync_.insert(new_id);
  return m;
}

std::optional<std::string> group::static_member(const std::string& instance) const {
  auto it = static_members_.find(instance);
  if (it == static_members_.end()) return std::nullopt;
  return it->second;
}

void group::update(group_member& m, std::vector<group_protocol> protocols, std::chrono::milliseconds session,
                   std::chrono::milliseconds rebalance) {
  m.protocols = std::move(protocols);
  m.session_timeout = session;
  m.rebalance_timeout = rebalance;
}

size_t group::awaiting_join_count() const {
  return static_cast<size_t>(std::count_if(members_.begin(), members_.end(),
                                           [](const auto& kv) { return static_cast<bool>(kv.second.awaiting_join); }));
}

std::chrono::milliseconds group::rebalance_timeout() const {
  std::chrono::milliseconds t{0};
  for (const auto& [id, m] : members_) t = std::max(t, m.rebalance_timeout);
  return t;
}

bool group::supports(const std::string& type, const std::vector<group_protocol>& protocols) const {
  if (state_ == group_state::empty && members_.empty()) return !type.empty() && !protocols.empty();
  if (protocol_type_ != type) return false;
  for (const auto& p : protocols) {
    const bool everyone = std::all_of(members_.begin(), members_.end(), [&](const auto& kv) {
      return std::any_of(kv.second.protocols.begin(), kv.second.protocols.end(),
                         [&](const group_protocol& q) { return q.name == p.name; });
    });
    if (everyone) return true;
  }
  return false;
}

std::string group::select_protocol() const {
  assert(!members_.empty());
  // Candidates: the protocols every member supports.
  std::map<std::string, size_t> support;
  for (const auto& [id, m] : members_) {
    std::set<std::string> names;
    for (const auto& p : m.protocols) names.insert(p.name);
    for (const auto& n : names) ++support[n];
  }
  std::set<std::string> candidates;
  for (const auto& [name, n] : support)
    if (n == members_.size()) candidates.insert(name);
  // Each member votes for its most preferred candidate; the most votes wins.
  std::map<std::string, size_t> votes;
  for (const auto& [id, m] : members_)
    for (const auto& p : m.protocols)
      if (candidates.contains(p.name)) {
        ++votes[p.name];
        break;
      }
  assert(!votes.empty());
  auto best = votes.begin();
  for (auto it = votes.begin(); it != votes.end(); ++it)
    if (it->second > best->second) best = it;
  return best->first;
}

bool group::elect_joined_leader() {
  if (!leader_) return false;
  if (members_.at(*leader_).awaiting_join) return true;
  for (const auto& [id, m] : members_)
    if (m.awaiting_join) {
      leader_ = id;
      return true;
    }
  return false;
}

void group::next_generation(int64_t wall_ms) {
  ++generation_;
  if (members_.empty()) {
    protocol_name_.reset();
    transition(group_state::empty, wall_ms);
  } else {
    protocol_name_ = select_protocol();
    transition(group_state::completing_rebalance, wall_ms);
  }
  pending_sync_.clear();
}

std::optional<std::set<std::string>> group::subscribed_topics() const {
  if (protocol_type_ != consumer_protocol_type) return std::nullopt;
  std::set<std::string> topics;
  if (members_.empty()) return topics;
  if (!protocol_name_) return std::nullopt;
  for (const auto& [id, m] : members_) {
    auto t = subscription_topics(m.metadata(*protocol_name_));
    if (!t) return std::nullopt;
    topics.insert(t->begin(), t->end());
  }
  return topics;
}

bool group::remove_offset(const topic_partition& tp) {
  bool removed = offsets_.erase(tp) > 0;
  if (auto it = pending_commits_.find(tp); it != pending_commits_.end()) {
    cancelled_commits_[tp] += it->second;
    pending_commits_.erase(it);
    removed = true;
  }
  return removed;
}

stored_group group::snapshot(const std::map<std::string, blob>* assignment) const {
  stored_group g;
  g.protocol_type = protocol_type_.value_or("");
  g.generation = generation_;
  g.protocol_name = protocol_name_;
  g.leader = leader_;
  g.state_timestamp_ms = state_timestamp_ms_;
  for (const auto& [id, m] : members_) {
    stored_member s;
    s.member_id = id;
    s.group_instance_id = m.instance_id;
    s.client_id = m.client_id;
    s.client_host = m.client_host;
    s.rebalance_timeout_ms = static_cast<int32_t>(m.rebalance_timeout.count());
    s.session_timeout_ms = static_cast<int32_t>(m.session_timeout.count());
    if (protocol_name_) s.subscription = m.metadata(*protocol_name_);
    if (assignment) {
      auto it = assignment->find(id);
      if (it != assignment->end()) s.assignment = it->second;
    } else {
      s.assignment = m.assignment;
    }
    g.members.push_back(std::move(s));
  }
  return g;
}

void group::restore(const stored_group& g) {
  members_.clear();
  static_members_.clear();
  pending_members_.clear();
  pending_sync_.clear();
  protocol_type_ = g.protocol_type.empty() ? std::nullopt : std::optional(g.protocol_type);
  generation_ = g.generation;
  protocol_name_ = g.protocol_name;
  leader_.reset();
  for (const auto& s : g.members) {
    group_member m;
    m.id = s.member_id;
    m.instance_id = s.group_instance_id;
    m.client_id = s.client_id;
    m.client_host = s.client_host;
    m.session_timeout = std::chrono::milliseconds(s.session_timeout_ms);
    m.rebalance_timeout = std::chrono::milliseconds(s.rebalance_timeout_ms);
    m.protocol_type = g.protocol_type;
    if (g.protocol_name) m.protocols.push_back({*g.protocol_name, s.subscription});
    m.assignment = s.assignment;
    if (m.instance_id) static_members_[*m.instance_id] = m.id;
    members_.emplace(m.id, std::move(m));
  }
  if (g.leader && members_.contains(*g.leader)) leader_ = g.leader;
  else if (!members_.empty()) leader_ = members_.begin()->first;
  state_ = members_.empty() || !protocol_name_ ? group_state::empty : group_state::stable;
  state_timestamp_ms_ = g.state_timestamp_ms;
}

}  // namespace engine
