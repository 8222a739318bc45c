#include "wal/segment_scan.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "wal/format.h"

namespace wal {

namespace {

// A read window over the file so that a scan costs one read per MiB, not per record.
class window {
 public:
  window(const readable_file& f, uint64_t size) : f_(f), size_(size) {}

  // Makes [offset, offset+n) readable through data(); false at EOF, error on I/O failure.
  result<bool> ensure(uint64_t offset, size_t n) {
    if (offset + n > size_) return false;
    if (offset >= start_ && offset + n <= start_ + buf_.size()) return true;
    size_t want = static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(n, 1u << 20), size_ - offset));
    buf_.resize(want);
    auto got = f_.read_at(offset, buf_);
    if (!got) return fail(got.error());
    buf_.resize(*got);
    start_ = offset;
    return *got >= n;
  }
  const std::byte* data(uint64_t offset) const { return buf_.data() + (offset - start_); }

 private:
  const readable_file& f_;
  uint64_t size_;
  uint64_t start_ = 0;
  std::vector<std::byte> buf_;
};

// Whether the bytes at `offset` (up to n of them, fewer at the end of the file) are all zero.
result<bool> zeros_at(window& w, uint64_t offset, size_t n, uint64_t file_size) {
  const size_t have = static_cast<size_t>(std::min<uint64_t>(n, file_size - offset));
  auto ok = w.ensure(offset, have);
  if (!ok) return fail(ok.error());
  if (!*ok) return false;  // the file ended early: not the zeros it claims to hold
  const std::byte* p = w.data(offset);
  return std::all_of(p, p + have, [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

result<scan_outcome> scan_segment(const readable_file& file, uint64_t file_size, uint64_t first_lsn,
                                  const std::function<void(const record_view&)>* visit) {
  scan_outcome out;
  out.next_lsn = first_lsn;
  window w(file, file_size);

  if (file_size > 0) {
    auto zero = zeros_at(w, 0, format::segment_header_size, file_size);
    if (!zero) return fail(zero.error());
    if (*zero) {
      // Never written only if nothing in the file was: zeros up front and bytes later is damage.
      for (uint64_t off = 0; off < file_size; off += 1u << 20) {
        auto all = zeros_at(w, off, static_cast<size_t>(std::min<uint64_t>(1u << 20, file_size - off)), file_size);
        if (!all) return fail(all.error());
        if (!*all) {
          out.problem = "segment header is zeros but the file holds other bytes after byte " + std::to_string(off);
          return out;
        }
      }
      out.zero_tail = true;
      out.problem = "segment header was never written (" + std::to_string(file_size) + " bytes of zeros)";
      return out;
    }
  }
  auto have = w.ensure(0, format::segment_header_size);
  if (!have) return fail(have.error());
  if (!*have) {
    out.problem = "segment header is incomplete (" + std::to_string(file_size) + " bytes)";
    return out;
  }
  const auto h = format::decode_segment_header(w.data(0));
  if (!h.magic_ok) {
    out.problem = "segment header has the wrong magic";
    return out;
  }
  if (!h.crc_ok) {
    out.problem = "segment header checksum mismatch";
    return out;
  }
  if (h.version != format::segment_version) {
    out.problem = "segment format version " + std::to_string(h.version) + " is not supported";
    return out;
  }
  if (h.first_lsn != first_lsn) {
    out.problem = "segment header names first lsn " + std::to_string(h.first_lsn) + " but the file name says " +
                  std::to_string(first_lsn);
    return out;
  }
  out.header_ok = true;
  out.valid_bytes = format::segment_header_size;

  uint64_t off = format::segment_header_size;
  while (off < file_size) {
    auto zero = zeros_at(w, off, format::record_header_size, file_size);
    if (!zero) return fail(zero.error());
    if (*zero) {  // the log ends here; what follows was preallocated and never written
      out.zero_tail = true;
      return out;
    }
    auto ok = w.ensure(off, format::record_header_size);
    if (!ok) return fail(ok.error());
    if (!*ok) {
      out.problem = "record header cut short at byte " + std::to_string(off);
      return out;
    }
    const auto rh = format::decode_record_header(w.data(off));
    const uint32_t len = rh.length;
    if (len > format::max_record_payload) {
      out.problem = "record length " + std::to_string(len) + " at byte " + std::to_string(off) + " is out of bounds";
      return out;
    }
    ok = w.ensure(off, format::record_header_size + len);
    if (!ok) return fail(ok.error());
    if (!*ok) {
      out.problem = "record at byte " + std::to_string(off) + " is cut short (needs " +
                    std::to_string(format::record_header_size + len) + " bytes, " + std::to_string(file_size - off) +
                    " remain)";
      return out;
    }
    const std::byte* r = w.data(off);
    if (format::record_crc(r, format::record_header_size + len) != rh.crc) {
      out.problem = "record checksum mismatch at byte " + std::to_string(off);
      return out;
    }
    const uint64_t lsn = rh.lsn;
    if (lsn != out.next_lsn) {
      out.problem = "record at byte " + std::to_string(off) + " has lsn " + std::to_string(lsn) + ", expected " +
                    std::to_string(out.next_lsn);
      return out;
    }
    if (visit) {
      record_view v{lsn, position{first_lsn, off}, rh.type, rh.stream,
                    std::span<const std::byte>(r + format::record_header_size, len)};
      (*visit)(v);
    }
    off += format::record_header_size + len;
    out.valid_bytes = off;
    out.next_lsn = lsn + 1;
    ++out.records;
  }
  return out;
}

}  // namespace wal
