#pragma once
// EXPERIMENT ONLY: a file_system whose syncs take longer, so that a fast disk can stand in for
// cloud block storage or a spinning disk (--simulated-sync-delay). It wraps another file_system
// (LevelDB's EnvWrapper) and, after every real sync of a writable file, sleeps a delay drawn from
// its current setting. The log above it cannot tell the difference, which is the point: the
// tuner sees a slow disk. A zero delay passes every call straight through.
#include <chrono>
#include <memory>
#include <mutex>
#include <random>

#include "wal/file_system.h"
#include "wal/sync_delay.h"

namespace wal {

class delaying_file_system final : public file_system {
 public:
  explicit delaying_file_system(std::shared_ptr<file_system> base, simulated_sync_delay delay = {});

  // Thread-safe; applies from the next sync on.
  void set_delay(const simulated_sync_delay& d);
  simulated_sync_delay delay() const;
  // The delay added so far, over every sync: an observer that measured a sync subtracts what was
  // added during it to report the disk's own time.
  std::chrono::nanoseconds added() const;

  result<void> create_dirs(const std::string& dir) override { return base_->create_dirs(dir); }
  result<std::vector<std::string>> list(const std::string& dir) override { return base_->list(dir); }
  result<std::unique_ptr<writable_file>> open_writable(const std::string& path) override;
  result<std::unique_ptr<readable_file>> open_readable(const std::string& path) override {
    return base_->open_readable(path);
  }
  result<void> truncate(const std::string& path, uint64_t size) override { return base_->truncate(path, size); }
  result<void> remove(const std::string& path) override { return base_->remove(path); }
  result<void> rename(const std::string& from, const std::string& to) override { return base_->rename(from, to); }
  result<void> sync_dir(const std::string& dir) override { return base_->sync_dir(dir); }

 private:
  class delayed_file;
  void after_sync();  // sleeps the drawn delay

  const std::shared_ptr<file_system> base_;
  mutable std::mutex mu_;
  simulated_sync_delay delay_;            // guarded by mu_
  std::mt19937_64 rng_{0x6b6169726fULL};  // guarded by mu_; fixed seed: runs are repeatable
  std::chrono::nanoseconds added_{0};     // guarded by mu_
};

}  // namespace wal
