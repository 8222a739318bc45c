#pragma once
// Errors the write-ahead log reports. A value here is what a caller branches on; the words a
// user needs (which file, which position, which system call) are in write_ahead_log::failure().
#include <system_error>

namespace wal {

enum class errc {
  ok = 0,
  write_failed,      // a write to a segment failed; the log is failed for good (sticky)
  sync_failed,       // fdatasync failed; the log is failed for good (sticky)
  queue_full,        // the append queue holds its byte bound; try again or wait
  closed,            // the log is shutting down or shut down
  corrupt_segment,   // a sealed segment has a bad record; recovery refuses to guess
  io_error,          // open/read/list/rename failed outside the append path
  bad_position,      // a read named a position that holds no record
  record_too_large,  // a single record exceeds the segment or queue bound
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace wal

template <>
struct std::is_error_code_enum<wal::errc> : std::true_type {};
