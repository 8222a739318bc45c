#pragma once
// On-disk constants of the WAL. The byte-level grammar is in docs/wal-format.md; keep both in step.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "util/crc32c.h"
#include "util/endian.h"

namespace wal::format {

using util::le::get_u32;
using util::le::get_u64;
using util::le::put_u32;
using util::le::put_u64;
namespace crc32c = util::crc32c;

// Segment file: header, then records back to back.
inline constexpr char segment_magic[8] = {'K', 'A', 'I', 'R', 'O', 'W', 'A', 'L'};
inline constexpr uint32_t segment_version = 1;
// magic[8] | version u32le | first_lsn u64le | crc32c u32le (of the preceding 20 bytes)
inline constexpr size_t segment_header_size = 24;

// Record: crc32c u32le | length u32le | type u8 | stream u32le | lsn u64le | payload[length]
// The crc covers every byte after itself (length, type, stream, lsn, payload), so a corrupt
// length is caught as surely as a corrupt payload.
inline constexpr size_t record_header_size = 21;
inline constexpr size_t record_crc_covered_from = 4;
// A record larger than this is refused at append: a corrupt length can then never make the
// scanner allocate or skip gigabytes.
inline constexpr uint32_t max_record_payload = 64u << 20;

inline constexpr std::string_view segment_suffix = ".wal";

// Segment files are named by the lsn of their first record, zero-padded so that name order is
// log order: 00000000000000000042.wal holds records 42, 43, ... up to the next segment's first.
inline std::string segment_name(uint64_t first_lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.wal", static_cast<unsigned long long>(first_lsn));
  return buf;
}

inline std::optional<uint64_t> parse_segment_name(std::string_view name) {
  if (name.size() != 20 + segment_suffix.size() || !name.ends_with(segment_suffix)) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return v;
}

// Field offsets of the segment header and of a record header: the writer, the scanner and
// read_verified all go through the functions below, so the layout lives in one place.
inline constexpr size_t segment_version_at = 8, segment_first_lsn_at = 12, segment_crc_at = 20;
inline constexpr size_t record_crc_at = 0, record_length_at = 4, record_type_at = 8, record_stream_at = 9,
                        record_lsn_at = 13;

inline void encode_segment_header(std::byte* out, uint64_t first_lsn) {
  std::memcpy(out, segment_magic, sizeof segment_magic);
  put_u32(out + segment_version_at, segment_version);
  put_u64(out + segment_first_lsn_at, first_lsn);
  put_u32(out + segment_crc_at, crc32c::value(out, segment_crc_at));
}

struct segment_header {
  bool magic_ok;
  bool crc_ok;
  uint32_t version;
  uint64_t first_lsn;
};
inline segment_header decode_segment_header(const std::byte* h) {
  return {std::memcmp(h, segment_magic, sizeof segment_magic) == 0,
          get_u32(h + segment_crc_at) == crc32c::value(h, segment_crc_at), get_u32(h + segment_version_at),
          get_u64(h + segment_first_lsn_at)};
}

struct record_header {
  uint32_t crc;
  uint32_t length;  // payload bytes
  uint8_t type;
  uint32_t stream;
  uint64_t lsn;
};
inline record_header decode_record_header(const std::byte* h) {
  return {get_u32(h + record_crc_at), get_u32(h + record_length_at), std::to_integer<uint8_t>(h[record_type_at]),
          get_u32(h + record_stream_at), get_u64(h + record_lsn_at)};
}
// The crc a record must carry: over everything after the crc field, header and payload
// (`framed` = record_header_size + payload length, all of it at `record`).
inline uint32_t record_crc(const std::byte* record, size_t framed) {
  return crc32c::value(record + record_crc_covered_from, framed - record_crc_covered_from);
}
// Frames a record whose payload is already at record + record_header_size.
inline void seal_record(std::byte* record, uint32_t length, uint8_t type, uint32_t stream, uint64_t lsn) {
  put_u32(record + record_length_at, length);
  record[record_type_at] = std::byte{type};
  put_u32(record + record_stream_at, stream);
  put_u64(record + record_lsn_at, lsn);
  put_u32(record + record_crc_at, record_crc(record, record_header_size + length));
}

}  // namespace wal::format
