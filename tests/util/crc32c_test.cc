#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "util/crc32c.h"

using namespace util;

namespace {

using crc_fn = uint32_t (*)(uint32_t, const void*, size_t) noexcept;

// RFC 3720 appendix B.4 test vectors, plus the classic "123456789" check value.
void check_vectors(crc_fn f) {
  std::vector<unsigned char> buf(32, 0);
  CHECK(f(0, buf.data(), buf.size()) == 0x8A9136AAu);
  std::fill(buf.begin(), buf.end(), 0xFF);
  CHECK(f(0, buf.data(), buf.size()) == 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(i);
  CHECK(f(0, buf.data(), buf.size()) == 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(31 - i);
  CHECK(f(0, buf.data(), buf.size()) == 0x113FDB5Cu);
  const char* check = "123456789";
  CHECK(f(0, check, 9) == 0xE3069283u);
  CHECK(f(0, nullptr, 0) == 0u);
}

}  // namespace

TEST_CASE("portable crc32c matches the published vectors", "[wal][crc32c]") { check_vectors(&crc32c::extend_portable); }

TEST_CASE("hardware crc32c matches the published vectors", "[wal][crc32c]") {
  if (!crc32c::hardware_available()) {
    WARN("no SSE4.2 on this CPU; only the portable implementation is checked");
    return;
  }
  check_vectors(&crc32c::extend_hardware);
}

TEST_CASE("crc32c extends across any split and both implementations agree", "[wal][crc32c]") {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  const uint32_t whole = crc32c::value(data.data(), data.size());
  CHECK(whole == crc32c::extend_portable(0, data.data(), data.size()));
  for (size_t cut : {0, 1, 7, 8, 9, 63, 500, 999, 1000}) {
    uint32_t c = crc32c::extend(0, data.data(), cut);
    c = crc32c::extend(c, data.data() + cut, data.size() - cut);
    CHECK(c == whole);
  }
}
