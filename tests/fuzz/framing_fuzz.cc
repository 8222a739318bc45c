// libFuzzer target for the bytes a Kafka connection reads: a stream of size-prefixed frames, each
// a request header and body, as a client (or an attacker) sends them, pipelined.
//
// The framing itself lives inside connection::read_loop and connection::dispatch
// (server/kafka/connection.cc), Asio coroutines on a socket with a broker behind them, so this
// target replays their steps on an in-memory stream and calls the pure functions they call:
//   read_loop: 4-byte big-endian size; refused (the connection closes) outside
//              8..max_request_bytes (serve_config's default, the real bound); then the frame.
//   dispatch:  api key, version and correlation id read from the frame; find_api_entry() (the
//              real api table, server/kafka/api_table.cc); a version outside the entry's range
//              closes, except ApiVersions, which is answered v0 with UNSUPPORTED_VERSION and the
//              table's ranges; otherwise request_header::decode over the whole frame and the
//              handler's body decoder (tests/fuzz/request_decode.h) on the rest.
// The size bound and the three-field peek are restated here (a few lines); if they change in
// connection.cc, change them here. protocol_fuzz covers one request without the stream.
//
// Beyond not crashing: the peek can never fail once the size passed the bound (that is what the
// lower bound of 8 is for); the full header agrees with the peek; the api table and the codec's
// supported_apis list the same APIs with the same ranges; the UNSUPPORTED_VERSION answer is a
// well-formed ApiVersions v0 response that lists ApiVersions; the stream is consumed frame by
// frame exactly as the sizes say.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "server/config.h"
#include "server/kafka/api_table.h"
#include "server/protocol/api_keys.h"
#include "server/protocol/api_versions.h"
#include "server/protocol/header.h"
#include "server/protocol/wire.h"
#include "tests/fuzz/request_decode.h"

namespace {

namespace protocol = server::protocol;
using server::kafka::api_entry;

// What the connection does with one frame.
enum class outcome { answered, closed };

// connection::answer_unsupported_api_versions, minus the socket: the v0 answer, then a check
// that a v0 client can read it back.
void answer_unsupported_api_versions(int32_t correlation_id) {
  protocol::api_versions_response resp;
  resp.error = protocol::error_code::unsupported_version;
  for (auto& e : server::kafka::api_table())
    resp.api_keys.push_back({static_cast<int16_t>(e.info.key), e.info.min_version, e.info.max_version});
  std::vector<std::byte> out;
  protocol::writer w(out);
  w.write_int32(0);
  w.write_int32(correlation_id);
  resp.encode(w, 0);

  protocol::reader r(out);
  r.read_int32();  // size, patched in by the connection
  if (r.read_int32() != correlation_id) std::abort();
  if (r.read_int16() != static_cast<int16_t>(protocol::error_code::unsupported_version)) std::abort();
  const size_t n = r.read_array_length();
  bool lists_api_versions = false;
  for (size_t i = 0; i < n; ++i) {
    const int16_t key = r.read_int16();
    const int16_t min = r.read_int16();
    const int16_t max = r.read_int16();
    if (min > max) std::abort();
    lists_api_versions |= key == static_cast<int16_t>(protocol::api_key::api_versions);
  }
  if (!lists_api_versions || r.remaining() != 0) std::abort();  // v0 has no throttle time
}

outcome dispatch(std::span<const std::byte> frame) {
  protocol::reader r(frame);
  int16_t key = 0, version = 0;
  int32_t correlation_id = 0;
  try {
    key = r.read_int16();
    version = r.read_int16();
    correlation_id = r.read_int32();
  } catch (const protocol::protocol_error&) {
    std::abort();  // the size bound guarantees these 8 bytes
  }
  const api_entry* api = server::kafka::find_api_entry(key);
  if (!api) return outcome::closed;
  if (static_cast<int16_t>(api->info.key) != key) std::abort();
  if (version < api->info.min_version || version > api->info.max_version) {
    if (key == static_cast<int16_t>(protocol::api_key::api_versions)) {
      answer_unsupported_api_versions(correlation_id);
      return outcome::answered;
    }
    return outcome::closed;
  }
  try {
    protocol::reader full(frame);
    const protocol::request_header h = protocol::request_header::decode(full);
    if (h.api_key != key || h.api_version != version || h.correlation_id != correlation_id) std::abort();
    if (full.position() > frame.size()) std::abort();
    kairo_fuzz::decode_body(full, h);  // what api->handle does first
  } catch (const protocol::protocol_error&) {
    return outcome::closed;  // "malformed request": the connection closes
  }
  return outcome::answered;
}

// The api table is built from the codec's list: dispatch and ApiVersions must agree with what
// can be decoded.
void check_api_table() {
  const auto table = server::kafka::api_table();
  if (table.size() != protocol::supported_apis.size()) std::abort();
  for (const auto& info : protocol::supported_apis) {
    const api_entry* e = server::kafka::find_api_entry(static_cast<int16_t>(info.key));
    if (!e || e->handle == nullptr || e->info.min_version != info.min_version ||
        e->info.max_version != info.max_version)
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  check_api_table();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const uint64_t max_request_bytes = server::serve_config{}.max_request_bytes;
  const std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data), size);
  size_t at = 0;
  for (;;) {
    if (stream.size() - at < 4) break;  // EOF: the client went away (mid-size or between frames)
    const auto* p = stream.data() + at;
    const int32_t frame_size = static_cast<int32_t>(
        (std::to_integer<uint32_t>(p[0]) << 24) | (std::to_integer<uint32_t>(p[1]) << 16) |
        (std::to_integer<uint32_t>(p[2]) << 8) | std::to_integer<uint32_t>(p[3]));
    at += 4;
    if (frame_size < 8 || static_cast<uint64_t>(frame_size) > max_request_bytes) break;  // refused, closed
    if (stream.size() - at < static_cast<size_t>(frame_size)) break;  // EOF mid-frame
    const auto frame = stream.subspan(at, static_cast<size_t>(frame_size));
    at += static_cast<size_t>(frame_size);
    if (dispatch(frame) == outcome::closed) break;
  }
  if (at > stream.size()) std::abort();
  return 0;
}
