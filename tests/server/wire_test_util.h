#pragma once
// Helpers shared by the wire codec tests: byte strings, a tagged section as a newer client sends
// it, encoding a response, refusing every prefix of a request, the versions of an API.
#include <catch2/catch.hpp>

#include <cstdint>
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

}  // namespace server::protocol::test
