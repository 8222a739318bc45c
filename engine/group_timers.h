#pragma once
// The coordinator's timers as data: each (kind, group, member) has at most one deadline, and the
// earliest is found in O(log n). The owner asks for the next deadline, sleeps until then, and
// hands expired keys back to the state machine, which is what keeps the coordinator free of
// clocks and threads.
//
// Not thread-safe: owned by group_coordinator.
#include <chrono>
#include <compare>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace engine {

enum class group_timer : uint8_t {
  heartbeat,       // a member's session timeout
  pending_member,  // a member that got MEMBER_ID_REQUIRED and has not joined with it
  join,            // the end of the join phase (initial delay or rebalance timeout)
  sync,            // members of the new generation that have not sent SyncGroup
  retention,       // the periodic offsets expiry (group and member empty)
};

struct timer_key {
  group_timer kind;
  std::string group;
  std::string member;
  friend auto operator<=>(const timer_key&, const timer_key&) = default;
};

class timer_queue {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  void arm(timer_key k, time_point at) {
    disarm(k);
    queue_.emplace(at, k);
    deadlines_.emplace(std::move(k), at);
  }
  void disarm(const timer_key& k) {
    auto it = deadlines_.find(k);
    if (it == deadlines_.end()) return;
    queue_.erase({it->second, k});
    deadlines_.erase(it);
  }
  bool armed(const timer_key& k) const { return deadlines_.contains(k); }
  std::optional<time_point> next() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first;
  }
  // Removes and returns the earliest key due at `now`, if any.
  std::optional<timer_key> pop_due(time_point now) {
    if (queue_.empty() || queue_.begin()->first > now) return std::nullopt;
    timer_key k = queue_.begin()->second;
    queue_.erase(queue_.begin());
    deadlines_.erase(k);
    return k;
  }
  size_t size() const { return deadlines_.size(); }

 private:
  std::set<std::pair<time_point, timer_key>> queue_;
  std::map<timer_key, time_point> deadlines_;
};

}  // namespace engine
