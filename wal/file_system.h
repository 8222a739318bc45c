#pragma once
// The WAL's window onto files. Production uses posix_file_system; tests use
// mem_file_system (tests/support/mem_file_system.h), which can fail the Nth write or sync, tear a write,
// and "crash" by dropping every byte that was written but not synced.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "wal/result.h"

namespace wal {

// Write handle to one file, used by one thread at a time.
class writable_file {
 public:
  virtual ~writable_file() = default;
  // Writes at the end of the file; the file grows.
  virtual result<void> append(std::span<const std::byte> data) = 0;
  // Writes at `offset`, over bytes already there or past the end (the file then grows to
  // offset + size). Over blocks that were written and synced before, a sync has only data to
  // flush: that is what preallocated WAL segments are for.
  virtual result<void> write_at(uint64_t offset, std::span<const std::byte> data) = 0;
  virtual result<void> sync() = 0;  // fdatasync: data and the size needed to read it back
  virtual result<void> close() = 0;
  virtual uint64_t size() const = 0;  // the file's size: its end, whatever wrote it
};

// Positional reads. Thread-safe: any number of readers, concurrent with the file's writer.
class readable_file {
 public:
  virtual ~readable_file() = default;
  // Reads up to out.size() bytes at `offset`; returns how many were read (short only at EOF).
  virtual result<size_t> read_at(uint64_t offset, std::span<std::byte> out) const = 0;
  virtual result<uint64_t> size() const = 0;
};

class file_system {
 public:
  virtual ~file_system() = default;
  virtual result<void> create_dirs(const std::string& dir) = 0;
  virtual result<std::vector<std::string>> list(const std::string& dir) = 0;  // file names only
  // Opens for writing; creates the file if missing, keeps its contents otherwise.
  virtual result<std::unique_ptr<writable_file>> open_writable(const std::string& path) = 0;
  virtual result<std::unique_ptr<readable_file>> open_readable(const std::string& path) = 0;
  virtual result<void> truncate(const std::string& path, uint64_t size) = 0;
  virtual result<void> remove(const std::string& path) = 0;
  // Atomically gives `from` the name `to`, replacing a file there. Durable after sync_dir.
  virtual result<void> rename(const std::string& from, const std::string& to) = 0;
  // Makes a directory's entries (new or removed files) durable.
  virtual result<void> sync_dir(const std::string& dir) = 0;
};

std::unique_ptr<file_system> make_posix_file_system();

}  // namespace wal
