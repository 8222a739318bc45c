#pragma once
// An in-memory file_system for tests that injects the failures real disks produce
// (LevelDB's memenv + fault_injection_test, in one): fail the Nth write or sync, tear a write
// (only a prefix lands), and crash (every byte written since the file's last sync is lost: an
// overwrite goes back to what was there, an append is cut off).
// Thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "wal/file_system.h"

namespace wal {

class mem_file_system final : public file_system {
 public:
  struct file {
    mutable std::mutex mu;
    std::vector<std::byte> data;     // guarded by mu
    std::vector<std::byte> durable;  // guarded by mu; what survives crash(): data as of the last sync
    // guarded by mu; the bytes written since the last sync lie in [dirty_from, dirty_to)
    size_t dirty_from = SIZE_MAX, dirty_to = 0;
  };

  result<void> create_dirs(const std::string& dir) override;
  result<std::vector<std::string>> list(const std::string& dir) override;
  result<std::unique_ptr<writable_file>> open_writable(const std::string& path) override;
  result<std::unique_ptr<readable_file>> open_readable(const std::string& path) override;
  result<void> truncate(const std::string& path, uint64_t size) override;
  result<void> remove(const std::string& path) override;
  result<void> rename(const std::string& from, const std::string& to) override;
  result<void> sync_dir(const std::string& dir) override;

  // Fault injection. Counts start at 1 and include every write/sync made after the call, to the
  // files `count_only` admits (all of them unless it is called).
  void count_only(std::function<bool(const std::string& path)> which);
  void fail_nth_write(uint64_t n);
  void fail_nth_sync(uint64_t n);
  void fail_syncs_from_nth(uint64_t n);                // that sync and every later one fail (a dying disk)
  void tear_nth_write(uint64_t n, size_t keep_bytes);  // that write lands keep_bytes, then fails
  // Simulated power loss: every file goes back to its contents at its last sync.
  void crash();

  std::vector<std::byte> contents(const std::string& path) const;
  void set_contents(const std::string& path, std::vector<std::byte> bytes);  // also marks synced
  uint64_t writes() const { return writes_.load(); }
  uint64_t syncs() const { return syncs_.load(); }

  // Called by the file handles.
  enum class write_fault { none, fail, tear };
  write_fault next_write(const std::string& path, size_t* keep);
  bool next_sync_fails(const std::string& path);

 private:
  std::shared_ptr<file> find(const std::string& path) const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<file>> files_;  // guarded by mu_
  std::function<bool(const std::string&)> counted_;     // guarded by mu_; empty: every file
  std::optional<uint64_t> fail_write_at_;               // guarded by mu_
  std::optional<uint64_t> fail_sync_at_;                // guarded by mu_
  std::optional<uint64_t> fail_syncs_from_;             // guarded by mu_
  std::optional<uint64_t> tear_write_at_;               // guarded by mu_
  size_t tear_keep_ = 0;                                // guarded by mu_
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace wal
