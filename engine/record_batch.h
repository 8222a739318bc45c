#pragma once
// Kafka RecordBatch v2 (magic 2): a view of the header, validation of what a producer sent, and
// the one in-place edit the broker makes (the base offset). Stateless and thread-safe.
//
// Layout, all integers big-endian (Kafka's DefaultRecordBatch):
//   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8 | 17 crc u32
//   21 attributes i16 | 23 lastOffsetDelta i32 | 27 baseTimestamp i64 | 35 maxTimestamp i64
//   43 producerId i64 | 51 producerEpoch i16 | 53 baseSequence i32 | 57 recordCount i32
//   61 records: recordCount x (length varint | length bytes)
// batchLength counts the bytes from partitionLeaderEpoch to the end of the batch. The CRC-32C
// covers attributes to the end, so baseOffset (and the leader epoch) can be rewritten without
// recomputing it. Attributes bits 0-2 are the compression codec; compressed record data is kept
// exactly as produced.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/result.h"

namespace engine {

namespace batch_layout {
inline constexpr size_t base_offset = 0;
inline constexpr size_t batch_length = 8;
inline constexpr size_t leader_epoch = 12;
inline constexpr size_t magic = 16;
inline constexpr size_t crc = 17;
inline constexpr size_t attributes = 21;
inline constexpr size_t last_offset_delta = 23;
inline constexpr size_t base_timestamp = 27;
inline constexpr size_t max_timestamp = 35;
inline constexpr size_t producer_id = 43;
inline constexpr size_t producer_epoch = 51;
inline constexpr size_t base_sequence = 53;
inline constexpr size_t record_count = 57;
inline constexpr size_t header_size = 61;
inline constexpr size_t log_overhead = 12;  // baseOffset + batchLength: not counted in batchLength
inline constexpr size_t crc_covered_from = attributes;
inline constexpr int8_t current_magic = 2;
inline constexpr int16_t compression_mask = 0x07;
inline constexpr int16_t transactional_flag = 0x10;  // attributes bit 4
inline constexpr int16_t control_flag = 0x20;        // attributes bit 5: a transaction marker
// The shortest record: length, attributes, timestampDelta, offsetDelta, keyLength, valueLength
// and header count are one byte each at least; the length varint does not count itself.
inline constexpr int32_t min_record_size = 6;
}  // namespace batch_layout

struct batch_header {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t leader_epoch = 0;
  int8_t magic = 0;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = 0;
  int16_t producer_epoch = 0;
  int32_t base_sequence = 0;
  int32_t record_count = 0;

  // The whole batch in bytes, baseOffset included.
  size_t size_bytes() const { return batch_layout::log_overhead + static_cast<size_t>(batch_length); }
  int compression() const { return attributes & batch_layout::compression_mask; }
  bool compressed() const { return compression() != 0; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  bool transactional() const { return (attributes & batch_layout::transactional_flag) != 0; }
  bool control() const { return (attributes & batch_layout::control_flag) != 0; }
};

// One batch inside a concatenated set: where it starts in the set, and its header.
struct batch_info {
  size_t offset = 0;
  batch_header header;
  size_t size() const { return header.size_bytes(); }
};

// Decodes the header fields at the start of `bytes` without checking anything.
// REQUIRES: bytes.size() >= batch_layout::header_size.
batch_header read_header(std::span<const std::byte> bytes);

// Validates one or more concatenated batches, the whole of `data`: framing (each batch fits
// exactly in what remains, no trailing bytes), magic 2 (0/1 -> errc::unsupported_format, any
// other value -> corrupt_message), CRC-32C, record count >= 0 and == lastOffsetDelta + 1 when
// positive, and for uncompressed batches that exactly recordCount records fill the batch.
// An empty `data` is corrupt_message (a produce must carry at least one batch).
// A refusal's words say what was wrong and at which byte, for the broker log and the client's
// error message.
result<std::vector<batch_info>> validate_batches(std::span<const std::byte> data);

// Splits concatenated batches by their framing only, without CRC or record checks: for bytes the
// broker wrote itself (WAL replay). Fails with corrupt_message if the framing does not add up.
result<std::vector<batch_info>> split_batches(std::span<const std::byte> data);

// Rewrites baseOffset of the batch that starts at `batch` (big-endian i64 at byte 0). The CRC
// does not cover it, so the batch stays valid. REQUIRES: batch.size() >= 8.
void set_base_offset(std::span<std::byte> batch, int64_t base_offset);

}  // namespace engine
