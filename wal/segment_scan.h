#pragma once
// Sequential, verifying reader of one segment file: used by recovery and replay.
#include <functional>
#include <string>

#include "wal/file_system.h"
#include "wal/write_ahead_log.h"

namespace wal {

struct scan_outcome {
  uint64_t valid_bytes = 0;  // the prefix that holds a good header and only good records
  uint64_t next_lsn = 0;     // the lsn after the last good record
  uint64_t records = 0;
  std::string problem;  // empty when the segment ended cleanly (at its end, or at zeros)
  bool header_ok = false;
  // The segment ends in zeros at valid_bytes: the unwritten rest of a preallocated segment (or,
  // with header_ok false, a header that was never written). Not a problem: the clean end.
  bool zero_tail = false;
};

// Verifies the header (magic, version, crc, first lsn == expected) and every record (length in
// bounds, crc, lsn continuity), calling `visit` for each good record; stops at the first problem,
// or cleanly where a record header is all zeros (a preallocated segment's unwritten part).
result<scan_outcome> scan_segment(const readable_file& file, uint64_t file_size, uint64_t first_lsn,
                                  const std::function<void(const record_view&)>* visit);

}  // namespace wal
