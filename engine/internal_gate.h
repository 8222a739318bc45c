#pragma once
// The coordinators' writes to the WAL's internal streams, counted while in flight, so that a
// restatement of their state (log_manager::enforce_retention removing old segments) is taken
// when every write so far is durable and applied, and before any write that comes after it.
// Writes submitted while a restatement waits for the ones in flight are held back and run after
// it, in order (docs/wal-format.md, "Reclaiming space").
//
// Thread-safety: none; the coordinators' executor only.
#include <cstddef>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

namespace engine {

class internal_gate {
 public:
  // Runs `write` now, or after the restatement that waits. Each write that ran must be matched
  // by one finished(), after its completion ran.
  void submit(std::function<void()> write) {
    if (!restates_.empty()) {
      held_.push_back(std::move(write));
      return;
    }
    ++in_flight_;
    write();
  }
  void finished() {
    if (in_flight_ > 0) --in_flight_;
    if (in_flight_ == 0 && !restates_.empty()) drain();
  }
  // Runs `restate` once no write is in flight: now, or when the last one finishes.
  void restate(std::function<void()> restate) {
    restates_.push_back(std::move(restate));
    if (in_flight_ == 0) drain();
  }
  size_t in_flight() const { return in_flight_; }
  size_t held() const { return held_.size(); }

 private:
  void drain() {
    auto restates = std::move(restates_);
    restates_.clear();
    for (auto& r : restates) r();
    while (!held_.empty() && restates_.empty()) {
      auto w = std::move(held_.front());
      held_.pop_front();
      ++in_flight_;
      w();
    }
  }

  size_t in_flight_ = 0;
  std::vector<std::function<void()>> restates_;
  std::deque<std::function<void()>> held_;
};

}  // namespace engine
