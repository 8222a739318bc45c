// libFuzzer target for the bytes a Kafka connection reads: a stream of size-prefixed frames, each
// a request header and body, as a client (or an attacker) sends them, pipelined.
//
// connection::read_loop and connection::dispatch (server/kafka/connection.cc) are Asio
// coroutines on a socket with a broker behind them; every decision they take about the bytes is
// a pure function of connection.h, which this target calls on an in-memory stream in the same
// order:
//   read_loop: the 4-byte big-endian size; frame_size_refusal() against serve_config's default
//              max_request_bytes (the real bound) closes; then the frame.
//   dispatch:  peek_frame() (api key, version and correlation id, looked up in the real api
//              table) says close, answer with unsupported_api_versions_answer(), or handle:
//              request_header::decode over the whole frame and the handler's body decoder
//              (tests/fuzz/request_decode.h) on the rest.
// protocol_fuzz covers one request without the stream.
//
// Beyond not crashing: the peek can never fail once the size passed the bound; peek_frame's
// verdict follows Kafka's rules against the api table (a known version is handled, an unknown
// ApiVersions version answered, anything else closed); the full header agrees with the peek; the
// api table and the codec's supported_apis list the same APIs with the same ranges; the
// UNSUPPORTED_VERSION answer is a well-formed ApiVersions v0 response, size prefix included,
// that lists ApiVersions; the stream is consumed frame by frame exactly as the sizes say.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "server/config.h"
#include "server/kafka/api_table.h"
#include "server/kafka/connection.h"
#include "server/protocol/api_keys.h"
#include "server/protocol/api_versions.h"
#include "server/protocol/header.h"
#include "server/protocol/wire.h"
#include "tests/fuzz/request_decode.h"

namespace {

namespace protocol = server::protocol;
namespace kafka = server::kafka;

// What the connection does with one frame.
enum class outcome { answered, closed };

// A v0 client can read the answer back: its size, its correlation id, the error and the ranges.
void check_unsupported_answer(const std::vector<std::byte>& out, int32_t correlation_id) {
  protocol::reader r(out);
  if (r.read_int32() != static_cast<int32_t>(out.size() - 4)) std::abort();
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
  kafka::frame_peek peek;
  try {
    peek = kafka::peek_frame(frame);
  } catch (const protocol::protocol_error&) {
    std::abort();  // the size bound guarantees these 8 bytes
  }
  const auto& h = peek.header;
  const kafka::api_entry* api = kafka::find_api_entry(h.api_key);
  if (peek.api != api) std::abort();
  if (api && static_cast<int16_t>(api->info.key) != h.api_key) std::abort();
  const bool known_version = api && h.api_version >= api->info.min_version && h.api_version <= api->info.max_version;
  const bool api_versions = h.api_key == static_cast<int16_t>(protocol::api_key::api_versions);
  switch (peek.next) {
    case kafka::frame_action::close:
      if (known_version || (api && api_versions)) std::abort();
      return outcome::closed;
    case kafka::frame_action::answer_unsupported_version:
      if (!api || !api_versions || known_version) std::abort();
      check_unsupported_answer(kafka::unsupported_api_versions_answer(h.correlation_id), h.correlation_id);
      return outcome::answered;
    case kafka::frame_action::handle:
      if (!known_version) std::abort();
      break;
  }
  try {
    protocol::reader full(frame);
    const protocol::request_header decoded = protocol::request_header::decode(full);
    if (decoded.api_key != h.api_key || decoded.api_version != h.api_version ||
        decoded.correlation_id != h.correlation_id)
      std::abort();
    if (full.position() > frame.size()) std::abort();
    kairo_fuzz::decode_body(full, decoded);  // what api->handle does first
  } catch (const protocol::protocol_error&) {
    return outcome::closed;  // "malformed request": the connection closes
  }
  return outcome::answered;
}

// The api table is built from the codec's list: dispatch and ApiVersions must agree with what
// can be decoded.
void check_api_table() {
  const auto table = kafka::api_table();
  if (table.size() != protocol::supported_apis.size()) std::abort();
  for (const auto& info : protocol::supported_apis) {
    const kafka::api_entry* e = kafka::find_api_entry(static_cast<int16_t>(info.key));
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
    const int32_t frame_size = protocol::reader(stream.subspan(at, 4)).read_int32();
    at += 4;
    if (kafka::frame_size_refusal(frame_size, max_request_bytes)) break;  // refused, closed
    if (frame_size < 8) std::abort();                                 // a frame that passed must hold the peeked fields
    if (stream.size() - at < static_cast<size_t>(frame_size)) break;  // EOF mid-frame
    const auto frame = stream.subspan(at, static_cast<size_t>(frame_size));
    at += static_cast<size_t>(frame_size);
    if (dispatch(frame) == outcome::closed) break;
  }
  if (at > stream.size()) std::abort();
  return 0;
}
