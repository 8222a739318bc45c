#include "server/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace server {
namespace {

std::string errno_words(int e) { return std::string(std::strerror(e)) + " (errno " + std::to_string(e) + ")"; }

}  // namespace

std::unique_ptr<data_dir_lock> data_dir_lock::acquire(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create the data directory " + dir + ": mkdir failed: " + ec.message());
  const std::string path = dir + "/LOCK";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + " to lock the data directory: " + errno_words(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    std::string holder;
    char buf[32] = {};
    if (::pread(fd, buf, sizeof buf - 1, 0) > 0) holder = buf;
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd);
    if (e == EWOULDBLOCK)
      throw std::runtime_error("the data directory " + dir + " is in use by another kairo" +
                               (holder.empty() ? std::string() : " (pid " + holder + ")") + ", which holds " + path +
                               "; stop that server or give this one another --data-dir");
    throw std::runtime_error("cannot lock " + path + " (flock): " + errno_words(e));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error("cannot write the pid into " + path + ": " + errno_words(e));
  }
  return std::unique_ptr<data_dir_lock>(new data_dir_lock(path, fd));
}

data_dir_lock::~data_dir_lock() {
  // Closing releases the lock; the pid stays as a hint for whoever looks.
  ::close(fd_);
}

}  // namespace server
