#pragma once
// An exclusive lock on the data directory for the life of the process (a `LOCK` file held with
// flock, as LevelDB does): two servers on one directory would each append to the same WAL and
// lose each other's acknowledged writes. The file holds the holder's pid, so the refusal can
// name it. The lock goes with the process, also on kill -9.
#include <memory>
#include <string>

namespace server {

class data_dir_lock {
 public:
  // Creates `dir` if needed and takes the lock. Throws std::runtime_error saying who holds it
  // (pid) or which operation on which path failed, with the errno in words.
  static std::unique_ptr<data_dir_lock> acquire(const std::string& dir);
  ~data_dir_lock();
  data_dir_lock(const data_dir_lock&) = delete;
  data_dir_lock& operator=(const data_dir_lock&) = delete;

  const std::string& path() const { return path_; }

 private:
  data_dir_lock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

}  // namespace server
