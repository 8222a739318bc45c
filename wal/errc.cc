#include "wal/errc.h"

#include <string>

namespace wal {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wal"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok: return "ok";
      case errc::write_failed: return "a write to the log failed; the log refuses further appends";
      case errc::sync_failed: return "fdatasync of the log failed; the log refuses further appends";
      case errc::queue_full: return "the log's append queue is full; retry after pending appends complete";
      case errc::closed: return "the log is closed";
      case errc::corrupt_segment: return "a sealed log segment is corrupt";
      case errc::io_error: return "a file operation on the log directory failed";
      case errc::bad_position: return "no record at that log position";
      case errc::record_too_large: return "record larger than the log accepts";
    }
    return "unknown wal error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category c;
  return c;
}

}  // namespace wal
