#pragma once
// Helpers shared by the wire codec tests: byte strings, a tagged section as a newer client sends
// it, encoding a response, refusing every prefix of a request, the versions of an API.
#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/protocol/api_keys.h"
#include "server/protocol/wire.h"

namespace server::protocol::test {

using bytes = std::vector<std::byte>;
using opt_string = std::optional<std::string>;

inline bytes hex(std::initializer_list<int> v) {
  bytes out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

inline bytes text(std::string_view s) {
  bytes out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline bytes concat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A non-empty tagged section as a newer client could send: one unknown field (tag 7, 3 bytes).
inline void write_unknown_tags(writer& w) {
  w.write_unsigned_varint(1);
  w.write_unsigned_varint(7);
  w.write_unsigned_varint(3);
  w.write_raw(hex({0xaa, 0xbb, 0xcc}));
}

template <typename T>
bytes encode_response(const T& resp, std::int16_t version) {
  bytes out;
  writer w(out);
  resp.encode(w, version);
  return out;
}

// Every strict prefix of a valid request must be refused with protocol_error: no field is
// optional at the end, so a decoder that accepts a prefix has read past a boundary.
template <typename Decode>
void require_prefixes_throw(const bytes& full, Decode decode) {
  for (std::size_t n = 0; n < full.size(); ++n) {
    reader r(byte_view(full.data(), n));
    REQUIRE_THROWS_AS(decode(r), protocol_error);
  }
}

inline std::vector<std::int16_t> versions_of(api_key key) {
  std::vector<std::int16_t> out;
  for (std::int16_t v = api(key).min_version; v <= api(key).max_version; ++v) out.push_back(v);
  return out;
}

// What the api table must say of an API: its highest version and its first flexible one.
struct api_versions_expected {
  api_key key;
  std::int16_t max_version;
  std::int16_t first_flexible;  // 32767 when no version is flexible
};
inline void check_api_versions(const std::vector<api_versions_expected>& table) {
  for (const auto& e : table) {
    INFO("api " << api(e.key).name);
    CHECK(api(e.key).min_version == 0);
    CHECK(api(e.key).max_version == e.max_version);
    for (auto v : versions_of(e.key)) CHECK(is_flexible(e.key, v) == (v >= e.first_flexible));
  }
}

// Each decoder refuses a version below its API's range and one above it, given plenty of zero
// bytes so that only the version check can refuse.
struct api_decoder {
  api_key key;
  std::function<void(reader&, std::int16_t)> decode;
};
inline void check_decoders_refuse_unknown_versions(const std::vector<api_decoder>& decoders) {
  const bytes zeros(64, std::byte{0});
  for (const auto& d : decoders) {
    INFO("api " << api(d.key).name);
    for (std::int16_t v : {std::int16_t(-1), std::int16_t(api(d.key).max_version + 1)}) {
      reader r(zeros);
      CHECK_THROWS_AS(d.decode(r, v), protocol_error);
    }
  }
}

}  // namespace server::protocol::test
