#include "engine/memory_budget.h"

#include <algorithm>

namespace engine {

void memory_budget::acquire(uint64_t bytes, std::function<void()> granted) {
  {
    std::lock_guard lock(mu_);
    // FIFO: a newcomer never overtakes a waiter, or large requests could starve.
    if (!waiters_.empty() || !fits(bytes)) {
      waiters_.push_back({bytes, std::move(granted)});
      return;
    }
    used_ += bytes;
    peak_ = std::max(peak_, used_);
  }
  granted();
}

std::deque<std::function<void()>> memory_budget::take_grantable() {
  std::deque<std::function<void()>> out;
  while (!waiters_.empty() && fits(waiters_.front().bytes)) {
    used_ += waiters_.front().bytes;
    peak_ = std::max(peak_, used_);
    out.push_back(std::move(waiters_.front().granted));
    waiters_.pop_front();
  }
  return out;
}

void memory_budget::release(uint64_t bytes) {
  std::deque<std::function<void()>> ready;
  {
    std::lock_guard lock(mu_);
    used_ -= bytes <= used_ ? bytes : used_;
    ready = take_grantable();
  }
  for (auto& g : ready) g();
}

void memory_budget::set_capacity(uint64_t capacity) {
  std::deque<std::function<void()>> ready;
  {
    std::lock_guard lock(mu_);
    capacity_ = capacity;
    ready = take_grantable();
  }
  for (auto& g : ready) g();
}

uint64_t memory_budget::used() const {
  std::lock_guard lock(mu_);
  return used_;
}
uint64_t memory_budget::peak() const {
  std::lock_guard lock(mu_);
  return peak_;
}
uint64_t memory_budget::capacity() const {
  std::lock_guard lock(mu_);
  return capacity_;
}
size_t memory_budget::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

}  // namespace engine
