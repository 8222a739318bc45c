#include "tests/support/mem_file_system.h"

#include <algorithm>
#include <cstring>

#include "wal/errc.h"

namespace wal {
namespace {

// The words posix_file_system would give, so tests see what users see.
util::error sys(int err, const std::string& what, const std::string& path) {
  const std::error_code ec(err, std::system_category());
  return {ec, what + " " + path + ": " + ec.message()};
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

class mem_writable final : public writable_file {
 public:
  mem_writable(mem_file_system* fs, std::shared_ptr<mem_file_system::file> f, std::string path)
      : fs_(fs), f_(std::move(f)), path_(std::move(path)) {}

  result<void> append(std::span<const std::byte> data) override {
    size_t end;
    {
      std::lock_guard lock(f_->mu);
      end = f_->data.size();
    }
    return write_at(end, data);
  }
  result<void> write_at(uint64_t offset, std::span<const std::byte> data) override {
    size_t keep = data.size();
    auto fault = fs_->next_write(path_, &keep);
    if (fault == mem_file_system::write_fault::fail)
      return fail(sys(EIO, "write of " + std::to_string(data.size()) + " bytes to", path_));
    std::lock_guard lock(f_->mu);
    keep = std::min(keep, data.size());
    if (keep > 0) {
      const size_t at = static_cast<size_t>(offset);
      if (f_->data.size() < at + keep) f_->data.resize(at + keep);
      std::memcpy(f_->data.data() + at, data.data(), keep);
      f_->dirty_from = std::min(f_->dirty_from, at);
      f_->dirty_to = std::max(f_->dirty_to, at + keep);
    }
    if (fault == mem_file_system::write_fault::tear)
      return fail(sys(EIO, "write of " + std::to_string(data.size()) + " bytes to", path_));
    return {};
  }
  result<void> sync() override {
    if (fs_->next_sync_fails(path_)) return fail(sys(EIO, "fdatasync of", path_));
    std::lock_guard lock(f_->mu);
    auto& f = *f_;
    // Only what was written since the last sync is copied: a sync costs what it flushes.
    f.durable.resize(f.data.size());
    if (f.dirty_from < f.dirty_to && f.dirty_from < f.data.size()) {
      const size_t to = std::min(f.dirty_to, f.data.size());
      std::memcpy(f.durable.data() + f.dirty_from, f.data.data() + f.dirty_from, to - f.dirty_from);
    }
    f.dirty_from = SIZE_MAX;
    f.dirty_to = 0;
    return {};
  }
  result<void> close() override { return {}; }
  uint64_t size() const override {
    std::lock_guard lock(f_->mu);
    return f_->data.size();
  }

 private:
  mem_file_system* fs_;
  std::shared_ptr<mem_file_system::file> f_;
  const std::string path_;
};

class mem_readable final : public readable_file {
 public:
  explicit mem_readable(std::shared_ptr<mem_file_system::file> f) : f_(std::move(f)) {}
  result<size_t> read_at(uint64_t offset, std::span<std::byte> out) const override {
    std::lock_guard lock(f_->mu);
    if (offset >= f_->data.size()) return size_t{0};
    size_t n = std::min<size_t>(out.size(), f_->data.size() - offset);
    std::memcpy(out.data(), f_->data.data() + offset, n);
    return n;
  }
  result<uint64_t> size() const override {
    std::lock_guard lock(f_->mu);
    return f_->data.size();
  }

 private:
  std::shared_ptr<mem_file_system::file> f_;
};

}  // namespace

result<void> mem_file_system::create_dirs(const std::string&) { return {}; }

result<std::vector<std::string>> mem_file_system::list(const std::string& dir) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (auto& [path, f] : files_)
    if (parent_of(path) == dir) out.push_back(path.substr(dir.size() + 1));
  return out;
}

result<std::unique_ptr<writable_file>> mem_file_system::open_writable(const std::string& path) {
  std::lock_guard lock(mu_);
  auto& f = files_[path];
  if (!f) f = std::make_shared<file>();
  return std::unique_ptr<writable_file>(new mem_writable(this, f, path));
}

result<std::unique_ptr<readable_file>> mem_file_system::open_readable(const std::string& path) {
  auto f = find(path);
  if (!f) return fail(sys(ENOENT, "opening for reading", path));
  return std::unique_ptr<readable_file>(new mem_readable(std::move(f)));
}

result<void> mem_file_system::truncate(const std::string& path, uint64_t size) {
  auto f = find(path);
  if (!f) return fail(sys(ENOENT, "truncating", path));
  std::lock_guard lock(f->mu);
  f->data.resize(size);
  f->durable.resize(std::min<size_t>(f->durable.size(), size));  // a truncate is taken as durable at once
  return {};
}

result<void> mem_file_system::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  if (files_.erase(path) == 0) return fail(sys(ENOENT, "removing", path));
  return {};
}

result<void> mem_file_system::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return fail(sys(ENOENT, "renaming " + from + " to", to));
  auto f = std::move(it->second);
  files_.erase(it);
  files_[to] = std::move(f);
  return {};
}

result<void> mem_file_system::sync_dir(const std::string&) { return {}; }

void mem_file_system::fail_nth_write(uint64_t n) {
  std::lock_guard lock(mu_);
  fail_write_at_ = writes_.load() + n;
}
void mem_file_system::fail_nth_sync(uint64_t n) {
  std::lock_guard lock(mu_);
  fail_sync_at_ = syncs_.load() + n;
}
void mem_file_system::fail_syncs_from_nth(uint64_t n) {
  std::lock_guard lock(mu_);
  fail_syncs_from_ = syncs_.load() + n;
}
void mem_file_system::tear_nth_write(uint64_t n, size_t keep_bytes) {
  std::lock_guard lock(mu_);
  tear_write_at_ = writes_.load() + n;
  tear_keep_ = keep_bytes;
}

void mem_file_system::count_only(std::function<bool(const std::string& path)> which) {
  std::lock_guard lock(mu_);
  counted_ = std::move(which);
}

mem_file_system::write_fault mem_file_system::next_write(const std::string& path, size_t* keep) {
  std::lock_guard lock(mu_);
  if (counted_ && !counted_(path)) return write_fault::none;
  uint64_t n = ++writes_;
  if (fail_write_at_ && *fail_write_at_ == n) return write_fault::fail;
  if (tear_write_at_ && *tear_write_at_ == n) {
    *keep = tear_keep_;
    return write_fault::tear;
  }
  return write_fault::none;
}

bool mem_file_system::next_sync_fails(const std::string& path) {
  std::lock_guard lock(mu_);
  if (counted_ && !counted_(path)) return false;
  uint64_t n = ++syncs_;
  return (fail_sync_at_ && *fail_sync_at_ == n) || (fail_syncs_from_ && n >= *fail_syncs_from_);
}

void mem_file_system::crash() {
  std::lock_guard lock(mu_);
  for (auto& [path, f] : files_) {
    std::lock_guard flock(f->mu);
    f->data = f->durable;
    f->dirty_from = SIZE_MAX;
    f->dirty_to = 0;
  }
}

std::vector<std::byte> mem_file_system::contents(const std::string& path) const {
  auto f = find(path);
  if (!f) return {};
  std::lock_guard lock(f->mu);
  return f->data;
}

void mem_file_system::set_contents(const std::string& path, std::vector<std::byte> bytes) {
  std::lock_guard lock(mu_);
  auto& f = files_[path];
  if (!f) f = std::make_shared<file>();
  std::lock_guard flock(f->mu);
  f->data = std::move(bytes);
  f->durable = f->data;
  f->dirty_from = SIZE_MAX;
  f->dirty_to = 0;
}

std::shared_ptr<mem_file_system::file> mem_file_system::find(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : it->second;
}

}  // namespace wal
