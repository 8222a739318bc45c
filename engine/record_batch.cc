#include "engine/record_batch.h"

#include <limits>
#include <string>

#include "engine/errc.h"
#include "util/crc32c.h"

namespace engine {
namespace {

namespace L = batch_layout;

uint64_t get_be(const std::byte* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | std::to_integer<uint64_t>(p[i]);
  return v;
}
int64_t get_i64(const std::byte* p) { return static_cast<int64_t>(get_be(p, 8)); }
int32_t get_i32(const std::byte* p) { return static_cast<int32_t>(static_cast<uint32_t>(get_be(p, 4))); }
int16_t get_i16(const std::byte* p) { return static_cast<int16_t>(static_cast<uint16_t>(get_be(p, 2))); }

// A zigzag varint of at most 5 bytes (Kafka's record length). Advances `pos`; false when the
// bytes run out or the encoding is longer than an int32 allows.
bool read_varint32(std::span<const std::byte> data, size_t& pos, int32_t& out) {
  uint32_t raw = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (pos >= data.size()) return false;
    const auto b = std::to_integer<uint32_t>(data[pos++]);
    if (shift == 28 && (b & 0xf0) != 0) return false;  // bits past 32, or a sixth byte
    raw |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      out = static_cast<int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
      return true;
    }
  }
  return false;
}

util::error refuse(errc code, std::string what) { return {code, std::move(what)}; }

// Checks framing of the batch at `at` and returns its header; `remaining` is data.size() - at.
result<batch_info> frame(std::span<const std::byte> data, size_t at) {
  const size_t remaining = data.size() - at;
  const std::byte* p = data.data() + at;
  auto where = [at] { return "batch at byte " + std::to_string(at); };
  if (remaining < L::log_overhead)
    return fail(refuse(errc::corrupt_message,
                       where() + ": " + std::to_string(remaining) + " trailing bytes, too few for a batch header"));
  const int32_t length = get_i32(p + L::batch_length);
  // Legacy message sets (v0/v1) keep magic at the same byte, so it can be recognised first.
  if (remaining > L::magic) {
    const auto magic = static_cast<int8_t>(p[L::magic]);
    if (magic == 0 || magic == 1)
      return fail(refuse(errc::unsupported_format,
                         where() + ": magic " + std::to_string(magic) + " (message format v0/v1) is not supported"));
    if (magic != L::current_magic)
      return fail(refuse(errc::corrupt_message, where() + ": unknown magic " + std::to_string(magic)));
  }
  if (length < static_cast<int32_t>(L::header_size - L::log_overhead))
    return fail(refuse(errc::corrupt_message,
                       where() + ": batchLength " + std::to_string(length) + " is shorter than a v2 header"));
  if (static_cast<size_t>(length) > remaining - L::log_overhead)
    return fail(refuse(errc::corrupt_message, where() + ": batchLength " + std::to_string(length) +
                                                  " runs past the end of the data (" +
                                                  std::to_string(remaining - L::log_overhead) + " bytes remain)"));
  return batch_info{at, read_header(data.subspan(at))};
}

// Walks the records of an uncompressed batch: exactly `count` length-prefixed records must fill it.
result<void> check_records(std::span<const std::byte> batch, int32_t count, size_t at) {
  auto where = [at] { return "batch at byte " + std::to_string(at); };
  size_t pos = L::header_size;
  for (int32_t i = 0; i < count; ++i) {
    int32_t len = 0;
    if (!read_varint32(batch, pos, len))
      return fail(refuse(errc::corrupt_message,
                         where() + ": record " + std::to_string(i) + " has a truncated or overlong length"));
    if (len < L::min_record_size || static_cast<size_t>(len) > batch.size() - pos)
      return fail(refuse(errc::corrupt_message, where() + ": record " + std::to_string(i) + " has length " +
                                                    std::to_string(len) + " but " + std::to_string(batch.size() - pos) +
                                                    " bytes remain in the batch"));
    pos += static_cast<size_t>(len);
  }
  if (pos != batch.size())
    return fail(refuse(errc::corrupt_message, where() + ": " + std::to_string(count) + " records end at byte " +
                                                  std::to_string(pos) + " of a " + std::to_string(batch.size()) +
                                                  "-byte batch"));
  return {};
}

}  // namespace

batch_header read_header(std::span<const std::byte> bytes) {
  const std::byte* p = bytes.data();
  batch_header h;
  h.base_offset = get_i64(p + L::base_offset);
  h.batch_length = get_i32(p + L::batch_length);
  h.leader_epoch = get_i32(p + L::leader_epoch);
  h.magic = static_cast<int8_t>(p[L::magic]);
  h.crc = static_cast<uint32_t>(get_be(p + L::crc, 4));
  h.attributes = get_i16(p + L::attributes);
  h.last_offset_delta = get_i32(p + L::last_offset_delta);
  h.base_timestamp = get_i64(p + L::base_timestamp);
  h.max_timestamp = get_i64(p + L::max_timestamp);
  h.producer_id = get_i64(p + L::producer_id);
  h.producer_epoch = get_i16(p + L::producer_epoch);
  h.base_sequence = get_i32(p + L::base_sequence);
  h.record_count = get_i32(p + L::record_count);
  return h;
}

result<std::vector<batch_info>> validate_batches(std::span<const std::byte> data) {
  if (data.empty()) return fail(refuse(errc::corrupt_message, "no record batch in the request"));
  std::vector<batch_info> out;
  for (size_t at = 0; at < data.size();) {
    auto b = frame(data, at);
    if (!b) return fail(b.error());
    const batch_header& h = b->header;
    const auto bytes = data.subspan(at, h.size_bytes());
    auto where = [at] { return "batch at byte " + std::to_string(at); };
    const uint32_t crc = util::crc32c::value(bytes.data() + L::crc_covered_from, bytes.size() - L::crc_covered_from);
    if (crc != h.crc)
      return fail(refuse(errc::corrupt_message, where() + ": CRC-32C mismatch (stored " + std::to_string(h.crc) +
                                                    ", computed " + std::to_string(crc) + ")"));
    // As Kafka's log validator: a batch holds at least one record and its offset range says how
    // many (an empty or backwards range would hand out offsets the log already gave away).
    if (h.record_count <= 0)
      return fail(refuse(errc::corrupt_message, where() + ": record count " + std::to_string(h.record_count) +
                                                    " (a batch holds at least one record)"));
    if (static_cast<int64_t>(h.record_count) != int64_t{h.last_offset_delta} + 1)
      return fail(refuse(errc::corrupt_message, where() + ": " + std::to_string(h.record_count) +
                                                    " records but lastOffsetDelta " +
                                                    std::to_string(h.last_offset_delta)));
    if (!h.compressed())
      if (auto r = check_records(bytes, h.record_count, at); !r) return fail(r.error());
    out.push_back(*b);
    at += h.size_bytes();
  }
  return out;
}

result<std::vector<batch_info>> split_batches(std::span<const std::byte> data) {
  std::vector<batch_info> out;
  for (size_t at = 0; at < data.size();) {
    auto b = frame(data, at);
    if (!b) return fail(b.error());
    // Bytes read back from disk are the broker's own, but a damaged record must not make an
    // offset range that runs backwards or past int64.
    const batch_header& h = b->header;
    if (h.base_offset < 0 || h.last_offset_delta < 0 ||
        h.base_offset > std::numeric_limits<int64_t>::max() - 1 - int64_t{h.last_offset_delta})
      return fail(refuse(errc::corrupt_message, "batch at byte " + std::to_string(at) + ": offsets from " +
                                                    std::to_string(h.base_offset) + " with lastOffsetDelta " +
                                                    std::to_string(h.last_offset_delta)));
    at += h.size_bytes();
    out.push_back(*b);
  }
  return out;
}

void set_base_offset(std::span<std::byte> batch, int64_t base_offset) {
  auto v = static_cast<uint64_t>(base_offset);
  for (int i = 7; i >= 0; --i) {
    batch[static_cast<size_t>(i)] = std::byte(v & 0xff);
    v >>= 8;
  }
}

}  // namespace engine
