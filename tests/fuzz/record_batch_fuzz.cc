// libFuzzer target for RecordBatch validation (engine/record_batch.cc), which runs on untrusted
// producer bytes before the engine rewrites offsets through them, and for the one record-level
// parse the engine does on stored batches (control_batch_commit, at replay).
//
// Input: byte 0 is a set of repair flags, the rest is the record set as a producer sends it.
// Mutations rarely keep a batch's length, count and CRC-32C consistent, so most would stop at
// the framing or CRC check; the flags repair them after mutation so that the fuzzer reaches the
// record walk (varint lengths, record boundaries) with bodies it chose:
//   0x01  the input is one batch: batchLength := the bytes that follow it
//   0x02  every batch with recordCount > 0: lastOffsetDelta := recordCount - 1
//   0x04  every framed batch: CRC-32C recomputed over attributes..end (last, after the others)
// The seeds (tests/fuzz/corpus/record_batch_fuzz) are valid batches with these flags set.
//
// Beyond not crashing: every refusal says why; an accepted set tiles the input exactly with
// magic-2 batches; framing-only splitting agrees; an independent walk of the records agrees with
// the validator's verdict on every uncompressed batch whose framing, CRC and count are sound;
// rewriting base offsets (what the broker does in place) keeps the set valid.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "engine/control_batch.h"
#include "engine/record_batch.h"
#include "util/crc32c.h"

namespace {

namespace L = engine::batch_layout;

uint64_t get_be(const std::byte* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | std::to_integer<uint64_t>(p[i]);
  return v;
}
void set_be(std::byte* p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = std::byte(v & 0xff);
    v >>= 8;
  }
}

// Walks the batches by batchLength only (stops at the first that does not fit) and calls f on each.
template <class F>
void for_each_framed(std::vector<std::byte>& in, F f) {
  size_t at = 0;
  while (in.size() - at >= L::header_size) {
    const auto length = static_cast<int32_t>(get_be(in.data() + at + L::batch_length, 4));
    if (length < static_cast<int32_t>(L::header_size - L::log_overhead)) return;
    const size_t total = L::log_overhead + static_cast<size_t>(length);
    if (total > in.size() - at) return;
    f(std::span<std::byte>(in.data() + at, total));
    at += total;
  }
}

void repair(std::vector<std::byte>& in, uint8_t flags) {
  if ((flags & 0x01) && in.size() >= L::header_size)
    set_be(in.data() + L::batch_length, in.size() - L::log_overhead, 4);
  if (flags & 0x02)
    for_each_framed(in, [](std::span<std::byte> b) {
      const auto count = static_cast<int32_t>(get_be(b.data() + L::record_count, 4));
      if (count > 0) set_be(b.data() + L::last_offset_delta, static_cast<uint32_t>(count - 1), 4);
    });
  if (flags & 0x04)
    for_each_framed(in, [](std::span<std::byte> b) {
      set_be(b.data() + L::crc, util::crc32c::value(b.data() + L::crc_covered_from, b.size() - L::crc_covered_from), 4);
    });
}

// An independent reading of "exactly recordCount records, each a zigzag varint length of at
// least min_record_size followed by that many bytes, fill the batch" (Kafka's DefaultRecord).
bool records_tile(std::span<const std::byte> batch, int32_t count) {
  size_t pos = L::header_size;
  for (int32_t i = 0; i < count; ++i) {
    uint64_t raw = 0;
    int shift = 0;
    for (;;) {
      if (pos >= batch.size() || shift > 28) return false;
      const auto b = std::to_integer<uint64_t>(batch[pos++]);
      raw |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if (raw > 0xffffffffu) return false;  // beyond 32 bits: not an int32 varint
    const auto zz = static_cast<uint32_t>(raw);
    const int64_t len = static_cast<int32_t>((zz >> 1) ^ (0u - (zz & 1)));
    if (len < L::min_record_size || static_cast<uint64_t>(len) > batch.size() - pos) return false;
    pos += static_cast<size_t>(len);
  }
  return pos == batch.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<std::byte> buf(reinterpret_cast<const std::byte*>(data) + 1,
                             reinterpret_cast<const std::byte*>(data) + size);
  repair(buf, data[0]);
  const std::span<const std::byte> in(buf);

  // The differential check: for every batch whose framing, magic, CRC and count are sound, the
  // record walk alone decides. Computed before validation, from the same bytes.
  bool walk_ok = !buf.empty();
  bool walk_decides = !buf.empty();
  {
    size_t at = 0;
    while (at < buf.size() && walk_decides) {
      if (buf.size() - at < L::header_size) {
        walk_decides = false;
        break;
      }
      const auto h = engine::read_header(in.subspan(at));
      if (h.magic != L::current_magic || h.batch_length < static_cast<int32_t>(L::header_size - L::log_overhead) ||
          h.size_bytes() > buf.size() - at) {
        walk_decides = false;
        break;
      }
      const auto b = in.subspan(at, h.size_bytes());
      const bool crc_ok = util::crc32c::value(b.data() + L::crc_covered_from, b.size() - L::crc_covered_from) == h.crc;
      // Kafka's validator refuses an empty batch; a non-empty one must agree with its delta.
      const bool count_ok = h.record_count > 0 && int64_t{h.record_count} == int64_t{h.last_offset_delta} + 1;
      if (!crc_ok || !count_ok) {
        walk_decides = false;
        break;
      }
      if (!h.compressed() && !records_tile(b, h.record_count)) walk_ok = false;
      at += h.size_bytes();
    }
  }

  auto batches = engine::validate_batches(in);
  if (walk_decides && walk_ok != batches.has_value()) std::abort();
  if (!batches) {
    // Every refusal says why, in more words than its code's.
    if (batches.error().message() == batches.error().code().message()) std::abort();
    return 0;
  }
  size_t at = 0;
  for (const auto& b : *batches) {
    if (b.offset != at || b.header.magic != 2 || b.header.record_count <= 0) std::abort();
    at += b.size();
    // The record-level parse replay does on a stored control batch (partition_log::recover).
    if (b.header.control()) (void)engine::control_batch_commit(in.subspan(b.offset, b.size()));
  }
  if (at != buf.size()) std::abort();
  // Replay also refuses a batch whose offsets could not have been assigned by the broker.
  bool offsets_sane = true;
  for (const auto& b : *batches)
    if (b.header.base_offset < 0 || b.header.last_offset_delta < 0 ||
        b.header.base_offset > std::numeric_limits<int64_t>::max() - 1 - int64_t{b.header.last_offset_delta})
      offsets_sane = false;
  auto split = engine::split_batches(in);
  if (split.has_value() != offsets_sane || (split && split->size() != batches->size())) std::abort();

  // The broker's in-place edit: the CRC does not cover the base offset.
  int64_t next = static_cast<int64_t>(size) << 20;  // any offsets will do
  for (const auto& b : *batches) {
    engine::set_base_offset(std::span<std::byte>(buf).subspan(b.offset, b.size()), next);
    next += int64_t{b.header.last_offset_delta} + 1;
  }
  auto again = engine::validate_batches(in);
  if (!again || again->size() != batches->size()) std::abort();
  return 0;
}
