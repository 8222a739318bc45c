// file_system over POSIX calls. Errors carry errno in std::system_category.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "wal/file_system.h"

namespace wal {
namespace {

std::error_code last_errno() { return {errno, std::system_category()}; }

class posix_writable final : public writable_file {
 public:
  posix_writable(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~posix_writable() override { (void)close(); }

  result<void> append(std::span<const std::byte> data) override {
    const std::byte* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(last_errno());
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return {};
  }
  result<void> sync() override {
    if (::fdatasync(fd_) != 0) return fail(last_errno());
    return {};
  }
  result<void> close() override {
    if (fd_ >= 0 && ::close(fd_) != 0) {
      fd_ = -1;
      return fail(last_errno());
    }
    fd_ = -1;
    return {};
  }
  uint64_t size() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
};

class posix_readable final : public readable_file {
 public:
  explicit posix_readable(int fd) : fd_(fd) {}
  ~posix_readable() override { ::close(fd_); }

  result<size_t> read_at(uint64_t offset, std::span<std::byte> out) const override {
    size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(last_errno());
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    return got;
  }
  result<uint64_t> size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return fail(last_errno());
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  int fd_;
};

class posix_file_system final : public file_system {
 public:
  result<void> create_dirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(ec);
    return {};
  }
  result<std::vector<std::string>> list(const std::string& dir) override {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
      out.push_back(it->path().filename().string());
    if (ec) return fail(ec);
    return out;
  }
  result<std::unique_ptr<writable_file>> open_writable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return fail(last_errno());
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      auto ec = last_errno();
      ::close(fd);
      return fail(ec);
    }
    return std::unique_ptr<writable_file>(new posix_writable(fd, static_cast<uint64_t>(st.st_size)));
  }
  result<std::unique_ptr<readable_file>> open_readable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(last_errno());
    return std::unique_ptr<readable_file>(new posix_readable(fd));
  }
  result<void> truncate(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) return fail(last_errno());
    return {};
  }
  result<void> remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return fail(last_errno());
    return {};
  }
  result<void> sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail(last_errno());
    int rc = ::fsync(fd);
    auto ec = last_errno();
    ::close(fd);
    if (rc != 0) return fail(ec);
    return {};
  }
};

}  // namespace

std::unique_ptr<file_system> make_posix_file_system() { return std::make_unique<posix_file_system>(); }

}  // namespace wal
