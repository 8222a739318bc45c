#pragma once
// An in-memory file_system for tests that injects the failures real disks produce
// (LevelDB's memenv + fault_injection_test, in one): fail the Nth write or sync, tear a write
// (only a prefix lands), and crash (every byte written since the file's last sync is lost).
// Thread-safe.
#include <atomic>
#include <map>
#include <mutex>
#include <optional>

#include "wal/file_system.h"

namespace wal {

class mem_file_system final : public file_system {
 public:
  struct file {
    mutable std::mutex mu;
    std::vector<std::byte> data;  // guarded by mu
    size_t synced = 0;            // guarded by mu; bytes that survive crash()
  };

  result<void> create_dirs(const std::string& dir) override;
  result<std::vector<std::string>> list(const std::string& dir) override;
  result<std::unique_ptr<writable_file>> open_writable(const std::string& path) override;
  result<std::unique_ptr<readable_file>> open_readable(const std::string& path) override;
  result<void> truncate(const std::string& path, uint64_t size) override;
  result<void> remove(const std::string& path) override;
  result<void> sync_dir(const std::string& dir) override;

  // Fault injection. Counts start at 1 and include every write/sync made after the call.
  void fail_nth_write(uint64_t n);
  void fail_nth_sync(uint64_t n);
  void fail_syncs_from_nth(uint64_t n);                // that sync and every later one fail (a dying disk)
  void tear_nth_write(uint64_t n, size_t keep_bytes);  // that write lands keep_bytes, then fails
  // Simulated power loss: every file keeps only its synced prefix.
  void crash();

  std::vector<std::byte> contents(const std::string& path) const;
  void set_contents(const std::string& path, std::vector<std::byte> bytes);  // also marks synced
  uint64_t writes() const { return writes_.load(); }
  uint64_t syncs() const { return syncs_.load(); }

  // Called by the file handles.
  enum class write_fault { none, fail, tear };
  write_fault next_write(size_t* keep);
  bool next_sync_fails();

 private:
  std::shared_ptr<file> find(const std::string& path) const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<file>> files_;  // guarded by mu_
  std::optional<uint64_t> fail_write_at_;               // guarded by mu_
  std::optional<uint64_t> fail_sync_at_;                // guarded by mu_
  std::optional<uint64_t> fail_syncs_from_;             // guarded by mu_
  std::optional<uint64_t> tear_write_at_;               // guarded by mu_
  size_t tear_keep_ = 0;                                // guarded by mu_
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace wal
