#pragma once

// Kafka primitive types on the wire: big-endian integers, zigzag varints, classic (int16/int32
// length) and compact (unsigned varint length + 1) strings, bytes and arrays, and tagged-field
// sections. `reader` decodes untrusted input and throws `protocol_error` on anything short or
// malformed; `writer` encodes trusted values produced by the broker.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace server::protocol {

// The only exception the decoders throw for bad input. The connection catches it and answers or
// closes; it must never mean a bug in the broker.
class protocol_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using byte_view = std::span<const std::byte>;

// Topic ids are opaque 16 bytes on the wire; all zero means "no id".
using uuid = std::array<std::uint8_t, 16>;
inline constexpr uuid zero_uuid{};

// Decodes from a buffer it does not own. Views returned by the bytes readers point into that
// buffer and stay valid only as long as it does.
// Thread-safety: none; one reader per request.
class reader {
 public:
  explicit reader(byte_view buffer) noexcept : buf_(buffer) {}

  std::int8_t read_int8();
  std::int16_t read_int16();
  std::int32_t read_int32();
  std::int64_t read_int64();
  std::uint32_t read_uint32();
  // Kafka treats any non-zero byte as true.
  bool read_bool();
  std::int32_t read_varint();   // zigzag
  std::int64_t read_varlong();  // zigzag
  std::uint32_t read_unsigned_varint();
  uuid read_uuid();

  std::string read_string();
  std::optional<std::string> read_nullable_string();
  std::string read_compact_string();
  std::optional<std::string> read_compact_nullable_string();
  // `compact` is "this API version is flexible".
  std::string read_string(bool compact);
  std::optional<std::string> read_nullable_string(bool compact);

  // Views into the input buffer, not copies.
  byte_view read_bytes();
  std::optional<byte_view> read_nullable_bytes();
  byte_view read_compact_bytes();
  std::optional<byte_view> read_compact_nullable_bytes();
  byte_view read_bytes(bool compact);
  std::optional<byte_view> read_nullable_bytes(bool compact);

  // Element counts. A count larger than the bytes left is rejected up front, because every
  // element takes at least one byte; this keeps a forged count from driving a huge reserve().
  std::size_t read_array_length();
  std::optional<std::size_t> read_nullable_array_length();
  std::size_t read_compact_array_length();
  std::optional<std::size_t> read_compact_nullable_array_length();
  std::size_t read_array_length(bool compact);
  std::optional<std::size_t> read_nullable_array_length(bool compact);

  // Skips a whole tagged-field section (count, then tag/size/data per field). The broker reads
  // none of the optional tagged fields of the APIs it serves.
  void skip_tagged_fields();

  std::size_t remaining() const noexcept { return buf_.size() - pos_; }
  std::size_t position() const noexcept { return pos_; }
  byte_view buffer() const noexcept { return buf_; }
  // Offset of a view this reader returned, relative to the start of its buffer.
  // REQUIRES: `v` points into buffer().
  std::size_t offset_of(byte_view v) const noexcept { return static_cast<std::size_t>(v.data() - buf_.data()); }

 private:
  byte_view take(std::size_t n, const char* what);
  std::size_t checked_length(std::int64_t len, bool nullable, const char* what);
  [[noreturn]] void fail(const std::string& why) const;

  byte_view buf_;
  std::size_t pos_ = 0;
};

// Appends to a vector owned by the caller, so a connection can reuse one buffer per response.
// Encoding a value the wire cannot hold (a string over 32767 bytes, more than INT32_MAX
// elements) is a broker bug and throws std::length_error.
class writer {
 public:
  explicit writer(std::vector<std::byte>& out) noexcept : out_(out) {}

  void write_int8(std::int8_t v);
  void write_int16(std::int16_t v);
  void write_int32(std::int32_t v);
  void write_int64(std::int64_t v);
  void write_uint32(std::uint32_t v);
  void write_bool(bool v);
  void write_varint(std::int32_t v);
  void write_varlong(std::int64_t v);
  void write_unsigned_varint(std::uint32_t v);
  void write_uuid(const uuid& v);

  void write_string(std::string_view s);
  void write_nullable_string(std::optional<std::string_view> s);
  void write_compact_string(std::string_view s);
  void write_compact_nullable_string(std::optional<std::string_view> s);
  void write_string(std::string_view s, bool compact);
  void write_nullable_string(std::optional<std::string_view> s, bool compact);

  void write_bytes(byte_view b);
  void write_nullable_bytes(std::optional<byte_view> b);
  void write_compact_bytes(byte_view b);
  void write_compact_nullable_bytes(std::optional<byte_view> b);
  void write_bytes(byte_view b, bool compact);
  void write_nullable_bytes(std::optional<byte_view> b, bool compact);

  void write_array_length(std::size_t n);
  void write_nullable_array_length(std::optional<std::size_t> n);
  void write_compact_array_length(std::size_t n);
  void write_compact_nullable_array_length(std::optional<std::size_t> n);
  void write_array_length(std::size_t n, bool compact);
  void write_nullable_array_length(std::optional<std::size_t> n, bool compact);

  // Only empty sections: the broker sends no tagged fields.
  void write_empty_tagged_fields();

  void write_raw(byte_view b);

  // Leaves room for an int32 (e.g. a size prefix not known yet) and returns its position.
  std::size_t reserve_int32();
  void patch_int32(std::size_t at, std::int32_t v);

  std::size_t size() const noexcept { return out_.size(); }

 private:
  std::vector<std::byte>& out_;
};

}  // namespace server::protocol
