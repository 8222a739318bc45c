#pragma once
// Bytes of produce data admitted but not yet answered. Beyond the budget, produce waits instead of
// growing memory: acquire() grants in FIFO order as release() frees bytes. Asio-free: a grant is a
// callback, run inline when the bytes are free now, otherwise on the thread that releases them
// (callers post to their own executor). Thread-safe.
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

namespace engine {

class memory_budget {
 public:
  explicit memory_budget(uint64_t capacity) : capacity_(capacity) {}

  // Calls `granted` once `bytes` fit. A request larger than the whole budget is granted when
  // nothing else is admitted, so that one oversized request cannot wait forever.
  void acquire(uint64_t bytes, std::function<void()> granted);
  void release(uint64_t bytes);
  // A smaller capacity applies to later grants; a larger one may grant waiters at once.
  void set_capacity(uint64_t capacity);

  uint64_t used() const;
  uint64_t peak() const;  // the most ever admitted at once
  uint64_t capacity() const;
  size_t waiting() const;

 private:
  struct waiter {
    uint64_t bytes;
    std::function<void()> granted;
  };
  bool fits(uint64_t bytes) const { return used_ + bytes <= capacity_ || used_ == 0; }  // REQUIRES: mu_ held
  std::deque<std::function<void()>> take_grantable();                                   // REQUIRES: mu_ held

  mutable std::mutex mu_;
  uint64_t capacity_;           // guarded by mu_
  uint64_t used_ = 0;           // guarded by mu_
  uint64_t peak_ = 0;           // guarded by mu_
  std::deque<waiter> waiters_;  // guarded by mu_
};

}  // namespace engine
