#include "engine/control_batch.h"

#include "engine/record_batch.h"
#include "util/crc32c.h"

namespace engine {
namespace {

namespace L = batch_layout;

void put_be(std::vector<std::byte>& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(std::byte((v >> (8 * i)) & 0xff));
}
void set_be(std::vector<std::byte>& out, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + static_cast<size_t>(i)] = std::byte((v >> (8 * (bytes - 1 - i))) & 0xff);
}
void put_varint(std::vector<std::byte>& out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out.push_back(std::byte((z & 0x7f) | 0x80));
    z >>= 7;
  }
  out.push_back(std::byte(z));
}
bool get_varint(std::span<const std::byte> in, size_t& pos, int64_t& out) {
  uint64_t raw = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) return false;
    const auto b = std::to_integer<uint64_t>(in[pos++]);
    raw |= (b & 0x7f) << shift;
    if (!(b & 0x80)) {
      out = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::byte> make_control_batch(int64_t producer_id, int16_t producer_epoch, bool commit,
                                          int32_t coordinator_epoch, int64_t timestamp_ms) {
  std::vector<std::byte> record;
  record.push_back(std::byte{0});  // record attributes
  put_varint(record, 0);           // timestamp delta
  put_varint(record, 0);           // offset delta
  std::vector<std::byte> key;
  put_be(key, 0, 2);               // marker key version
  put_be(key, commit ? 1 : 0, 2);  // type
  put_varint(record, static_cast<int64_t>(key.size()));
  record.insert(record.end(), key.begin(), key.end());
  std::vector<std::byte> value;
  put_be(value, 0, 2);  // marker value version
  put_be(value, static_cast<uint32_t>(coordinator_epoch), 4);
  put_varint(record, static_cast<int64_t>(value.size()));
  record.insert(record.end(), value.begin(), value.end());
  put_varint(record, 0);  // headers

  std::vector<std::byte> b;
  put_be(b, 0, 8);  // base offset: assigned at append
  put_be(b, 0, 4);  // batch length, below
  put_be(b, 0, 4);  // partition leader epoch
  b.push_back(std::byte{L::current_magic});
  put_be(b, 0, 4);  // crc, below
  put_be(b, static_cast<uint16_t>(L::transactional_flag | L::control_flag), 2);
  put_be(b, 0, 4);                                    // last offset delta
  put_be(b, static_cast<uint64_t>(timestamp_ms), 8);  // base timestamp
  put_be(b, static_cast<uint64_t>(timestamp_ms), 8);  // max timestamp
  put_be(b, static_cast<uint64_t>(producer_id), 8);
  put_be(b, static_cast<uint16_t>(producer_epoch), 2);
  put_be(b, static_cast<uint32_t>(-1), 4);  // base sequence: none
  put_be(b, 1, 4);                          // record count
  put_varint(b, static_cast<int64_t>(record.size()));
  b.insert(b.end(), record.begin(), record.end());
  set_be(b, L::batch_length, b.size() - L::log_overhead, 4);
  set_be(b, L::crc, util::crc32c::value(b.data() + L::crc_covered_from, b.size() - L::crc_covered_from), 4);
  return b;
}

std::optional<bool> control_batch_commit(std::span<const std::byte> batch) {
  size_t pos = L::header_size;
  int64_t length = 0, ts = 0, od = 0, key_len = 0;
  if (!get_varint(batch, pos, length) || pos >= batch.size()) return std::nullopt;
  ++pos;  // record attributes
  if (!get_varint(batch, pos, ts) || !get_varint(batch, pos, od) || !get_varint(batch, pos, key_len))
    return std::nullopt;
  if (key_len < 4 || batch.size() - pos < 4) return std::nullopt;
  const auto type = static_cast<int16_t>((std::to_integer<uint16_t>(batch[pos + 2]) << 8) |
                                         std::to_integer<uint16_t>(batch[pos + 3]));
  if (type != 0 && type != 1) return std::nullopt;
  return type == 1;
}

}  // namespace engine
