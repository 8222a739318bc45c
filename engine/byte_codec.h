#pragma once
// Little-endian encoding for the engine's own files and WAL records (the topic catalog, group
// records): a growing writer and a bounds-checked reader. Layouts are documented where each
// format is defined; this is only the byte plumbing they share.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "util/endian.h"

namespace engine::codec {

class writer {
 public:
  void u8(uint8_t v) { out_.push_back(std::byte(v)); }
  void u16(uint16_t v) {
    out_.push_back(std::byte(v & 0xff));
    out_.push_back(std::byte(v >> 8));
  }
  void u32(uint32_t v) {
    const size_t at = grow(4);
    util::le::put_u32(out_.data() + at, v);
  }
  void u64(uint64_t v) {
    const size_t at = grow(8);
    util::le::put_u64(out_.data() + at, v);
  }
  void bytes(const void* p, size_t n) {
    const size_t at = grow(n);
    if (n) std::memcpy(out_.data() + at, p, n);
  }
  void str16(const std::string& s) {
    u16(static_cast<uint16_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void str32(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void blob32(std::span<const std::byte> b) {
    u32(static_cast<uint32_t>(b.size()));
    bytes(b.data(), b.size());
  }
  std::vector<std::byte>& out() { return out_; }

 private:
  size_t grow(size_t n) {
    const size_t at = out_.size();
    out_.resize(at + n);
    return at;
  }
  std::vector<std::byte> out_;
};

// Once anything runs short, ok() stays false and reads return zeros.
class reader {
 public:
  explicit reader(std::span<const std::byte> in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }
  const std::byte* take(size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return nullptr;
    }
    const std::byte* p = in_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8() {
    auto p = take(1);
    return p ? std::to_integer<uint8_t>(p[0]) : 0;
  }
  uint16_t u16() {
    auto p = take(2);
    return p ? static_cast<uint16_t>(std::to_integer<uint16_t>(p[0]) | (std::to_integer<uint16_t>(p[1]) << 8)) : 0;
  }
  uint32_t u32() {
    auto p = take(4);
    return p ? util::le::get_u32(p) : 0;
  }
  uint64_t u64() {
    auto p = take(8);
    return p ? util::le::get_u64(p) : 0;
  }
  std::string str(size_t n) {
    auto p = take(n);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
  }
  std::string str16() { return str(u16()); }
  std::string str32() { return str(u32()); }
  std::vector<std::byte> blob32() {
    const uint32_t n = u32();
    auto p = take(n);
    return p ? std::vector<std::byte>(p, p + n) : std::vector<std::byte>();
  }

 private:
  std::span<const std::byte> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace engine::codec
