// libFuzzer target for one request as the connection hands it on: header decode, then the
// decoder of the API the header names (tests/fuzz/request_decode.h). The only acceptable failure
// is protocol_error; any other exception escapes and libFuzzer reports it, as it does crashes
// and sanitizer finds. framing_fuzz covers the stream of size-prefixed frames around this.
#include <cstddef>
#include <cstdint>
#include <span>

#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"
#include "server/protocol/wire.h"
#include "tests/fuzz/request_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace server::protocol;
  reader r(std::as_bytes(std::span(data, size)));
  try {
    request_header h = request_header::decode(r);
    // Unknown keys end here, as at the connection; known keys with any version reach the
    // decoder, which must refuse unsupported versions itself.
    if (find_api(h.api_key) == nullptr) return 0;
    kairo_fuzz::decode_body(r, h);
  } catch (const protocol_error&) {
  }
  return 0;
}
