#pragma once
// Builds real Kafka RecordBatch v2 bytes for the engine tests (varint records, CRC-32C), and
// reads them back, independently of engine/record_batch.cc.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/crc32c.h"

namespace engine::test {

struct record_spec {
  std::optional<std::string> key;
  std::string value;
  int64_t timestamp_delta = 0;
};

struct batch_options {
  int64_t base_offset = 0;
  int64_t base_timestamp = 1'700'000'000'000;
  int16_t attributes = 0;
  int32_t leader_epoch = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

inline void put_be(std::vector<std::byte>& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(std::byte((v >> (8 * i)) & 0xff));
}
inline void set_be(std::span<std::byte> out, size_t at, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out[at + static_cast<size_t>(bytes - 1 - i)] = std::byte((v >> (8 * i)) & 0xff);
}
inline uint64_t get_be(std::span<const std::byte> in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | std::to_integer<uint64_t>(in[at + static_cast<size_t>(i)]);
  return v;
}

inline void put_varint(std::vector<std::byte>& out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out.push_back(std::byte((z & 0x7f) | 0x80));
    z >>= 7;
  }
  out.push_back(std::byte(z));
}

inline int64_t get_varint(std::span<const std::byte> in, size_t& pos) {
  uint64_t raw = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) throw std::runtime_error("varint runs past the end");
    const auto b = std::to_integer<uint64_t>(in[pos++]);
    raw |= (b & 0x7f) << shift;
    if (!(b & 0x80)) return static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
  }
  throw std::runtime_error("varint too long");
}

// Recomputes the CRC of the batch starting at `at` (after a test tampered with covered bytes).
inline void fix_crc(std::vector<std::byte>& bytes, size_t at = 0) {
  const auto length = static_cast<uint32_t>(get_be(bytes, at + 8, 4));
  const size_t end = at + 12 + length;
  set_be(bytes, at + 17, util::crc32c::value(bytes.data() + at + 21, end - at - 21), 4);
}

// Encodes the record section (uncompressed) of a batch.
inline std::vector<std::byte> encode_records(const std::vector<record_spec>& recs) {
  std::vector<std::byte> out;
  for (size_t i = 0; i < recs.size(); ++i) {
    std::vector<std::byte> body;
    body.push_back(std::byte{0});  // attributes
    put_varint(body, recs[i].timestamp_delta);
    put_varint(body, static_cast<int64_t>(i));  // offsetDelta
    if (recs[i].key) {
      put_varint(body, static_cast<int64_t>(recs[i].key->size()));
      for (char c : *recs[i].key) body.push_back(std::byte(c));
    } else {
      put_varint(body, -1);
    }
    put_varint(body, static_cast<int64_t>(recs[i].value.size()));
    for (char c : recs[i].value) body.push_back(std::byte(c));
    put_varint(body, 0);  // headers
    put_varint(out, static_cast<int64_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
  }
  return out;
}

// A whole batch around an already-encoded record section (or opaque compressed bytes).
inline std::vector<std::byte> make_raw_batch(std::span<const std::byte> records, int32_t count,
                                             int32_t last_offset_delta, int64_t max_timestamp,
                                             const batch_options& o = {}) {
  std::vector<std::byte> b;
  put_be(b, static_cast<uint64_t>(o.base_offset), 8);
  put_be(b, 0, 4);  // batchLength, below
  put_be(b, static_cast<uint32_t>(o.leader_epoch), 4);
  b.push_back(std::byte{2});  // magic
  put_be(b, 0, 4);            // crc, below
  put_be(b, static_cast<uint16_t>(o.attributes), 2);
  put_be(b, static_cast<uint32_t>(last_offset_delta), 4);
  put_be(b, static_cast<uint64_t>(o.base_timestamp), 8);
  put_be(b, static_cast<uint64_t>(max_timestamp), 8);
  put_be(b, static_cast<uint64_t>(o.producer_id), 8);
  put_be(b, static_cast<uint16_t>(o.producer_epoch), 2);
  put_be(b, static_cast<uint32_t>(o.base_sequence), 4);
  put_be(b, static_cast<uint32_t>(count), 4);
  b.insert(b.end(), records.begin(), records.end());
  set_be(b, 8, b.size() - 12, 4);
  fix_crc(b);
  return b;
}

inline std::vector<std::byte> make_batch_records(const std::vector<record_spec>& recs, const batch_options& o = {}) {
  int64_t max_delta = 0;
  for (auto& r : recs) max_delta = std::max(max_delta, r.timestamp_delta);
  const auto records = encode_records(recs);
  return make_raw_batch(records, static_cast<int32_t>(recs.size()), static_cast<int32_t>(recs.size()) - 1,
                        o.base_timestamp + max_delta, o);
}

// Values only, keys null, all records at the base timestamp.
inline std::vector<std::byte> make_batch(const std::vector<std::string>& values, const batch_options& o = {}) {
  std::vector<record_spec> recs;
  for (auto& v : values) recs.push_back({std::nullopt, v, 0});
  return make_batch_records(recs, o);
}

inline void append_to(std::vector<std::byte>& out, const std::vector<std::byte>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

// A decoded record, with its absolute offset.
struct decoded_record {
  int64_t offset;
  int64_t timestamp;
  std::optional<std::string> key;
  std::string value;
};

// Decodes every record of every (uncompressed) batch in `bytes`.
inline std::vector<decoded_record> decode_all(std::span<const std::byte> bytes) {
  std::vector<decoded_record> out;
  size_t at = 0;
  while (at < bytes.size()) {
    const auto base_offset = static_cast<int64_t>(get_be(bytes, at, 8));
    const auto length = static_cast<uint32_t>(get_be(bytes, at + 8, 4));
    const auto base_ts = static_cast<int64_t>(get_be(bytes, at + 27, 8));
    const auto count = static_cast<int32_t>(get_be(bytes, at + 57, 4));
    size_t pos = at + 61;
    for (int32_t i = 0; i < count; ++i) {
      const int64_t len = get_varint(bytes, pos);
      const size_t end = pos + static_cast<size_t>(len);
      ++pos;  // attributes
      decoded_record r;
      r.timestamp = base_ts + get_varint(bytes, pos);
      r.offset = base_offset + get_varint(bytes, pos);
      const int64_t klen = get_varint(bytes, pos);
      if (klen >= 0) {
        r.key = std::string(reinterpret_cast<const char*>(bytes.data() + pos), static_cast<size_t>(klen));
        pos += static_cast<size_t>(klen);
      }
      const int64_t vlen = get_varint(bytes, pos);
      r.value = std::string(reinterpret_cast<const char*>(bytes.data() + pos), static_cast<size_t>(vlen));
      pos = end;
      out.push_back(std::move(r));
    }
    at += 12 + length;
  }
  return out;
}

}  // namespace engine::test
