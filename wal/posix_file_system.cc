// file_system over POSIX calls. Errors carry errno in std::system_category, and words that name
// the call and the path ("fdatasync of /data/wal/00000000000000000000.wal: Input/output error").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>

#include "wal/file_system.h"

namespace wal {
namespace {

// What failed, where and why, from errno (read before anything else can change it).
util::error sys_error(int err, std::string_view what, const std::string& path) {
  const std::error_code ec(err, std::system_category());
  return {ec, std::string(what) + " " + path + ": " + ec.message()};
}

class posix_writable final : public writable_file {
 public:
  posix_writable(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  ~posix_writable() override { (void)close(); }

  result<void> append(std::span<const std::byte> data) override { return write_at(size_, data); }
  result<void> write_at(uint64_t offset, std::span<const std::byte> data) override {
    const std::byte* p = data.data();
    size_t left = data.size();
    uint64_t at = offset;
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(at));
      if (n < 0) {
        const int err = errno;
        if (err == EINTR) continue;
        return fail(
            sys_error(err, "write of " + std::to_string(left) + " bytes at byte " + std::to_string(at) + " of", path_));
      }
      p += n;
      left -= static_cast<size_t>(n);
      at += static_cast<uint64_t>(n);
      size_ = std::max(size_, at);
    }
    return {};
  }
  result<void> sync() override {
    if (::fdatasync(fd_) != 0) return fail(sys_error(errno, "fdatasync of", path_));
    return {};
  }
  result<void> close() override {
    if (fd_ >= 0 && ::close(fd_) != 0) {
      fd_ = -1;
      return fail(sys_error(errno, "close of", path_));
    }
    fd_ = -1;
    return {};
  }
  uint64_t size() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
  const std::string path_;
};

class posix_readable final : public readable_file {
 public:
  posix_readable(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~posix_readable() override { ::close(fd_); }

  result<size_t> read_at(uint64_t offset, std::span<std::byte> out) const override {
    size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
      if (n < 0) {
        const int err = errno;
        if (err == EINTR) continue;
        return fail(sys_error(err, "read at byte " + std::to_string(offset + got) + " of", path_));
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    return got;
  }
  result<uint64_t> size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return fail(sys_error(errno, "fstat of", path_));
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  int fd_;
  const std::string path_;
};

class posix_file_system final : public file_system {
 public:
  result<void> create_dirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(ec, "creating directory " + dir + ": " + ec.message());
    return {};
  }
  result<std::vector<std::string>> list(const std::string& dir) override {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
      out.push_back(it->path().filename().string());
    if (ec) return fail(ec, "listing directory " + dir + ": " + ec.message());
    return out;
  }
  result<std::unique_ptr<writable_file>> open_writable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail(sys_error(errno, "opening for writing", path));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      auto e = sys_error(errno, "fstat of", path);
      ::close(fd);
      return fail(std::move(e));
    }
    return std::unique_ptr<writable_file>(new posix_writable(fd, static_cast<uint64_t>(st.st_size), path));
  }
  result<std::unique_ptr<readable_file>> open_readable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(sys_error(errno, "opening for reading", path));
    return std::unique_ptr<readable_file>(new posix_readable(fd, path));
  }
  result<void> truncate(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      const int err = errno;
      return fail(sys_error(err, "truncating to " + std::to_string(size) + " bytes", path));
    }
    return {};
  }
  result<void> remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return fail(sys_error(errno, "removing", path));
    return {};
  }
  result<void> rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return fail(sys_error(errno, "renaming " + from + " to", to));
    return {};
  }
  result<void> sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail(sys_error(errno, "opening directory", dir));
    if (::fsync(fd) != 0) {
      auto e = sys_error(errno, "fsync of directory", dir);
      ::close(fd);
      return fail(std::move(e));
    }
    ::close(fd);
    return {};
  }
};

}  // namespace

std::unique_ptr<file_system> make_posix_file_system() { return std::make_unique<posix_file_system>(); }

}  // namespace wal
