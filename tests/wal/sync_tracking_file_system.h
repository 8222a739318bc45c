#pragma once
// A file_system for WAL tests over mem_file_system that knows, per file, how many bytes a
// successful sync certainly covered: those written before the sync BEGAN (bytes that land while
// a sync runs may or may not reach the disk with it). It can also hold syncs at a gate, so that
// a test can make the WAL write groups while a sync is in progress. Thread-safe.
#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "tests/support/mem_file_system.h"
#include "wal/format.h"
#include "wal/write_ahead_log.h"

namespace wal::test {

class sync_tracking_file_system final : public file_system {
 public:
  sync_tracking_file_system() : mem_(std::make_shared<mem_file_system>()) {
    mem_->count_only(
        [](const std::string& p) { return format::parse_segment_name(p.substr(p.rfind('/') + 1)).has_value(); });
  }

  mem_file_system& mem() { return *mem_; }

  // Bytes of `path` that some successful sync covered.
  uint64_t durable(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = durable_.find(path);
    return it == durable_.end() ? 0 : it->second;
  }
  // Whether the record `a` (completed by `dir`'s log) lies inside the durable prefix of its segment.
  bool covers(const std::string& dir, const appended& a) const {
    return durable(dir + "/" + format::segment_name(a.pos.segment)) >=
           a.pos.offset + format::record_header_size + a.size;
  }

  // Syncs that begin from now on wait at the gate (after noting what they cover) until release.
  void hold_syncs() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void release_syncs() {
    {
      std::lock_guard lock(mu_);
      hold_ = false;
    }
    cv_.notify_all();
  }
  void wait_until_held(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_ >= n; });
  }
  size_t held() const {
    std::lock_guard lock(mu_);
    return held_;
  }

  result<void> create_dirs(const std::string& dir) override { return mem_->create_dirs(dir); }
  result<std::vector<std::string>> list(const std::string& dir) override { return mem_->list(dir); }
  result<std::unique_ptr<readable_file>> open_readable(const std::string& path) override {
    return mem_->open_readable(path);
  }
  result<void> truncate(const std::string& path, uint64_t size) override { return mem_->truncate(path, size); }
  result<void> remove(const std::string& path) override { return mem_->remove(path); }
  result<void> rename(const std::string& from, const std::string& to) override { return mem_->rename(from, to); }
  result<void> sync_dir(const std::string& dir) override { return mem_->sync_dir(dir); }
  result<std::unique_ptr<writable_file>> open_writable(const std::string& path) override {
    auto inner = mem_->open_writable(path);
    if (!inner) return fail(inner.error());
    return std::unique_ptr<writable_file>(new tracked(this, path, std::move(*inner)));
  }

 private:
  class tracked final : public writable_file {
   public:
    tracked(sync_tracking_file_system* fs, std::string path, std::unique_ptr<writable_file> inner)
        : fs_(fs), path_(std::move(path)), inner_(std::move(inner)) {}
    result<void> append(std::span<const std::byte> data) override { return write_at(inner_->size(), data); }
    result<void> write_at(uint64_t offset, std::span<const std::byte> data) override {
      auto r = inner_->write_at(offset, data);
      if (r) written_end_ = std::max(written_end_, offset + data.size());
      return r;
    }
    result<void> sync() override {
      // Written through this handle before this sync began. (A preallocated segment is longer:
      // its zeros were written through another handle, under another name, and do not count.)
      const uint64_t covered = written_end_;
      const bool segment = format::parse_segment_name(path_.substr(path_.rfind('/') + 1)).has_value();
      {
        std::unique_lock lock(fs_->mu_);
        if (fs_->hold_ && segment) {  // the gate holds the log's own syncs, not a spare's zero-fill
          fs_->held_++;
          fs_->cv_.notify_all();
          fs_->cv_.wait(lock, [&] { return !fs_->hold_; });
          fs_->held_--;
        }
      }
      auto r = inner_->sync();
      if (r) {
        std::lock_guard lock(fs_->mu_);
        auto& d = fs_->durable_[path_];
        d = std::max(d, covered);
      }
      return r;
    }
    result<void> close() override { return inner_->close(); }
    uint64_t size() const override { return inner_->size(); }

   private:
    sync_tracking_file_system* fs_;
    std::string path_;
    std::unique_ptr<writable_file> inner_;
    uint64_t written_end_ = 0;
  };

  std::shared_ptr<mem_file_system> mem_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, uint64_t> durable_;  // guarded by mu_
  bool hold_ = false;                        // guarded by mu_
  size_t held_ = 0;                          // guarded by mu_
};

}  // namespace wal::test
