#include "server/protocol/wire.h"

#include <cstring>
#include <limits>

namespace server::protocol {

namespace {

template <typename U>
U load_be(const std::byte* p) {
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    v = static_cast<U>((v << 8) | static_cast<U>(std::to_integer<std::uint8_t>(p[i])));
  }
  return v;
}

template <typename U>
void store_be(std::vector<std::byte>& out, U v) {
  for (std::size_t i = sizeof(U); i-- > 0;) {
    out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
  }
}

std::uint32_t zigzag32(std::int32_t v) {
  return (static_cast<std::uint32_t>(v) << 1) ^ static_cast<std::uint32_t>(v >> 31);
}

std::uint64_t zigzag64(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

void append_unsigned_varlong(std::vector<std::byte>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::byte>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::byte>(v));
}

std::string to_string(byte_view b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

// Compact encodings carry n + 1 in an unsigned varint, so n itself must stay below 2^32 - 1.
std::uint32_t compact_length(std::size_t n) {
  if (n >= std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("kafka compact length too large to encode");
  }
  return static_cast<std::uint32_t>(n + 1);
}

}  // namespace

// ---- reader -------------------------------------------------------------------------------

void reader::fail(const std::string& why) const {
  throw protocol_error(why + " at byte " + std::to_string(pos_) + " of " + std::to_string(buf_.size()));
}

byte_view reader::take(std::size_t n, const char* what) {
  if (n > remaining()) {
    fail(std::string("truncated ") + what + ": need " + std::to_string(n) + " bytes, " + std::to_string(remaining()) +
         " left");
  }
  byte_view v = buf_.subspan(pos_, n);
  pos_ += n;
  return v;
}

std::size_t reader::checked_length(std::int64_t len, bool nullable, const char* what) {
  if (len < 0 && !(nullable && len == -1)) {
    fail(std::string("invalid ") + what + " length " + std::to_string(len));
  }
  if (len > static_cast<std::int64_t>(remaining())) {
    fail(std::string(what) + " length " + std::to_string(len) + " exceeds the " + std::to_string(remaining()) +
         " bytes left");
  }
  return static_cast<std::size_t>(len);
}

std::int8_t reader::read_int8() { return static_cast<std::int8_t>(take(1, "int8")[0]); }

std::int16_t reader::read_int16() { return static_cast<std::int16_t>(load_be<std::uint16_t>(take(2, "int16").data())); }

std::int32_t reader::read_int32() { return static_cast<std::int32_t>(load_be<std::uint32_t>(take(4, "int32").data())); }

std::int64_t reader::read_int64() { return static_cast<std::int64_t>(load_be<std::uint64_t>(take(8, "int64").data())); }

std::uint32_t reader::read_uint32() { return load_be<std::uint32_t>(take(4, "uint32").data()); }

bool reader::read_bool() { return take(1, "bool")[0] != std::byte{0}; }

std::uint32_t reader::read_unsigned_varint() {
  std::uint32_t v = 0;
  for (int i = 0; i < 5; ++i) {
    auto b = std::to_integer<std::uint32_t>(take(1, "unsigned varint")[0]);
    // The fifth byte may only carry the top 4 bits of a 32-bit value.
    if (i == 4 && b > 0x0f) fail("unsigned varint overflows 32 bits");
    v |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return v;
  }
  fail("unsigned varint longer than 5 bytes");
}

std::int32_t reader::read_varint() {
  std::uint32_t u = read_unsigned_varint();
  return static_cast<std::int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

std::int64_t reader::read_varlong() {
  std::uint64_t u = 0;
  for (int i = 0; i < 10; ++i) {
    auto b = std::to_integer<std::uint64_t>(take(1, "varlong")[0]);
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (i == 9 && b > 0x01) fail("varlong overflows 64 bits");
    u |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  fail("varlong longer than 10 bytes");
}

uuid reader::read_uuid() {
  uuid u;
  std::memcpy(u.data(), take(16, "uuid").data(), u.size());
  return u;
}

std::string reader::read_string() {
  std::size_t n = checked_length(read_int16(), false, "string");
  return to_string(take(n, "string"));
}

std::optional<std::string> reader::read_nullable_string() {
  std::int16_t len = read_int16();
  std::size_t n = checked_length(len, true, "nullable string");
  if (len == -1) return std::nullopt;
  return to_string(take(n, "nullable string"));
}

// Strings are at most 32767 bytes in every encoding, as in Kafka (a compact length could say
// more; Kafka's readers refuse it too).
constexpr std::uint32_t max_string_bytes = 0x7fff;

std::string reader::read_compact_string() {
  std::uint32_t len = read_unsigned_varint();
  if (len == 0) fail("null compact string where a value is required");
  if (len - 1 > max_string_bytes) fail("compact string of " + std::to_string(len - 1) + " bytes (at most 32767)");
  std::size_t n = checked_length(static_cast<std::int64_t>(len) - 1, false, "compact string");
  return to_string(take(n, "compact string"));
}

std::optional<std::string> reader::read_compact_nullable_string() {
  std::uint32_t len = read_unsigned_varint();
  if (len == 0) return std::nullopt;
  if (len - 1 > max_string_bytes) fail("compact string of " + std::to_string(len - 1) + " bytes (at most 32767)");
  std::size_t n = checked_length(static_cast<std::int64_t>(len) - 1, false, "compact nullable string");
  return to_string(take(n, "compact nullable string"));
}

std::string reader::read_string(bool compact) { return compact ? read_compact_string() : read_string(); }

std::optional<std::string> reader::read_nullable_string(bool compact) {
  return compact ? read_compact_nullable_string() : read_nullable_string();
}

byte_view reader::read_bytes() {
  std::size_t n = checked_length(read_int32(), false, "bytes");
  return take(n, "bytes");
}

std::optional<byte_view> reader::read_nullable_bytes() {
  std::int32_t len = read_int32();
  std::size_t n = checked_length(len, true, "nullable bytes");
  if (len == -1) return std::nullopt;
  return take(n, "nullable bytes");
}

byte_view reader::read_compact_bytes() {
  std::uint32_t len = read_unsigned_varint();
  if (len == 0) fail("null compact bytes where a value is required");
  std::size_t n = checked_length(static_cast<std::int64_t>(len) - 1, false, "compact bytes");
  return take(n, "compact bytes");
}

std::optional<byte_view> reader::read_compact_nullable_bytes() {
  std::uint32_t len = read_unsigned_varint();
  if (len == 0) return std::nullopt;
  std::size_t n = checked_length(static_cast<std::int64_t>(len) - 1, false, "compact nullable bytes");
  return take(n, "compact nullable bytes");
}

byte_view reader::read_bytes(bool compact) { return compact ? read_compact_bytes() : read_bytes(); }

std::optional<byte_view> reader::read_nullable_bytes(bool compact) {
  return compact ? read_compact_nullable_bytes() : read_nullable_bytes();
}

std::size_t reader::read_array_length() { return checked_length(read_int32(), false, "array"); }

std::optional<std::size_t> reader::read_nullable_array_length() {
  std::int32_t len = read_int32();
  std::size_t n = checked_length(len, true, "nullable array");
  if (len == -1) return std::nullopt;
  return n;
}

std::size_t reader::read_compact_array_length() {
  std::uint32_t len = read_unsigned_varint();
  if (len == 0) fail("null compact array where a value is required");
  return checked_length(static_cast<std::int64_t>(len) - 1, false, "compact array");
}

std::optional<std::size_t> reader::read_compact_nullable_array_length() {
  std::uint32_t len = read_unsigned_varint();
  if (len == 0) return std::nullopt;
  return checked_length(static_cast<std::int64_t>(len) - 1, false, "compact nullable array");
}

std::size_t reader::read_array_length(bool compact) {
  return compact ? read_compact_array_length() : read_array_length();
}

std::optional<std::size_t> reader::read_nullable_array_length(bool compact) {
  return compact ? read_compact_nullable_array_length() : read_nullable_array_length();
}

void reader::skip_tagged_fields() {
  std::uint32_t count = read_unsigned_varint();
  // Each field is at least a tag byte and a size byte.
  if (count > remaining() / 2) fail("tagged field count " + std::to_string(count) + " too large");
  for (std::uint32_t i = 0; i < count; ++i) {
    read_unsigned_varint();  // tag
    std::uint32_t size = read_unsigned_varint();
    take(checked_length(size, false, "tagged field"), "tagged field");
  }
}

// ---- writer -------------------------------------------------------------------------------

void writer::write_int8(std::int8_t v) { out_.push_back(static_cast<std::byte>(v)); }
void writer::write_int16(std::int16_t v) { store_be(out_, static_cast<std::uint16_t>(v)); }
void writer::write_int32(std::int32_t v) { store_be(out_, static_cast<std::uint32_t>(v)); }
void writer::write_int64(std::int64_t v) { store_be(out_, static_cast<std::uint64_t>(v)); }
void writer::write_uint32(std::uint32_t v) { store_be(out_, v); }
void writer::write_bool(bool v) { out_.push_back(v ? std::byte{1} : std::byte{0}); }
void writer::write_unsigned_varint(std::uint32_t v) { append_unsigned_varlong(out_, v); }
void writer::write_varint(std::int32_t v) { append_unsigned_varlong(out_, zigzag32(v)); }
void writer::write_varlong(std::int64_t v) { append_unsigned_varlong(out_, zigzag64(v)); }

void writer::write_uuid(const uuid& v) {
  for (auto b : v) out_.push_back(static_cast<std::byte>(b));
}

void writer::write_raw(byte_view b) { out_.insert(out_.end(), b.begin(), b.end()); }

void writer::write_string(std::string_view s) {
  if (s.size() > static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max())) {
    throw std::length_error("kafka string longer than 32767 bytes");
  }
  write_int16(static_cast<std::int16_t>(s.size()));
  write_raw(std::as_bytes(std::span(s.data(), s.size())));
}

void writer::write_nullable_string(std::optional<std::string_view> s) {
  if (!s) return write_int16(-1);
  write_string(*s);
}

void writer::write_compact_string(std::string_view s) {
  write_unsigned_varint(compact_length(s.size()));
  write_raw(std::as_bytes(std::span(s.data(), s.size())));
}

void writer::write_compact_nullable_string(std::optional<std::string_view> s) {
  if (!s) return write_unsigned_varint(0);
  write_compact_string(*s);
}

void writer::write_string(std::string_view s, bool compact) { compact ? write_compact_string(s) : write_string(s); }

void writer::write_nullable_string(std::optional<std::string_view> s, bool compact) {
  compact ? write_compact_nullable_string(s) : write_nullable_string(s);
}

void writer::write_bytes(byte_view b) {
  write_array_length(b.size());  // same int32 range check as an array count
  write_raw(b);
}

void writer::write_nullable_bytes(std::optional<byte_view> b) {
  if (!b) return write_int32(-1);
  write_bytes(*b);
}

void writer::write_compact_bytes(byte_view b) {
  write_unsigned_varint(compact_length(b.size()));
  write_raw(b);
}

void writer::write_compact_nullable_bytes(std::optional<byte_view> b) {
  if (!b) return write_unsigned_varint(0);
  write_compact_bytes(*b);
}

void writer::write_bytes(byte_view b, bool compact) { compact ? write_compact_bytes(b) : write_bytes(b); }

void writer::write_nullable_bytes(std::optional<byte_view> b, bool compact) {
  compact ? write_compact_nullable_bytes(b) : write_nullable_bytes(b);
}

void writer::write_array_length(std::size_t n) {
  if (n > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("kafka array or bytes longer than INT32_MAX");
  }
  write_int32(static_cast<std::int32_t>(n));
}

void writer::write_nullable_array_length(std::optional<std::size_t> n) {
  if (!n) return write_int32(-1);
  write_array_length(*n);
}

void writer::write_compact_array_length(std::size_t n) { write_unsigned_varint(compact_length(n)); }

void writer::write_compact_nullable_array_length(std::optional<std::size_t> n) {
  if (!n) return write_unsigned_varint(0);
  write_compact_array_length(*n);
}

void writer::write_array_length(std::size_t n, bool compact) {
  compact ? write_compact_array_length(n) : write_array_length(n);
}

void writer::write_nullable_array_length(std::optional<std::size_t> n, bool compact) {
  compact ? write_compact_nullable_array_length(n) : write_nullable_array_length(n);
}

void writer::write_empty_tagged_fields() { write_unsigned_varint(0); }

std::size_t writer::reserve_int32() {
  std::size_t at = out_.size();
  out_.resize(at + 4);
  return at;
}

void writer::patch_int32(std::size_t at, std::int32_t v) {
  auto u = static_cast<std::uint32_t>(v);
  for (std::size_t i = 0; i < 4; ++i) {
    out_.at(at + i) = static_cast<std::byte>((u >> (8 * (3 - i))) & 0xff);
  }
}

}  // namespace server::protocol
