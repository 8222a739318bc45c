#pragma once
// What a Kafka API handler gets: the decoded header, the body reader, the frame that owns the
// bytes, the broker it serves, and a way to answer. Handlers run on the connection's io thread.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "server/protocol/header.h"
#include "server/protocol/wire.h"

namespace engine {
class log_manager;
}

namespace server::kafka {

struct broker_context;  // server/kafka/broker_context.h

// Per-connection produce timing for the tuner: when this connection last got a produce answer.
// Touched only on the connection's io thread.
struct produce_timing {
  std::optional<std::chrono::steady_clock::time_point> last_answer;
};

struct request_context {
  protocol::request_header header;
  std::shared_ptr<std::vector<std::byte>> frame;  // the whole request after the size prefix
  protocol::reader body;                          // positioned at the request body
  broker_context& broker;
  boost::asio::any_io_executor executor;  // the connection's io thread
  std::chrono::steady_clock::time_point received;
  // Answers the request. Call once, on `executor`, with the response body already encoded by
  // encode_response(); responses reach the socket in request order whatever the call order.
  std::function<void(std::vector<std::byte>)> respond;
  // Drops the request without an answer (acks=0 produce).
  std::function<void()> no_response;
  std::shared_ptr<produce_timing> timing;
  // The client's address as Kafka reports it in group descriptions ("/127.0.0.1").
  std::shared_ptr<const std::string> client_host;
  // Whether more bytes from this client already wait to be read (a pipelined next request).
  std::function<bool()> more_input;
};

// Frames a response: size, response header (v0 or v1 by api and version), body.
template <class Response>
std::vector<std::byte> encode_response(const request_context& ctx, const Response& r) {
  std::vector<std::byte> out;
  protocol::writer w(out);
  w.write_int32(0);
  protocol::encode_response_header(w, ctx.header.correlation_id, ctx.header.api_key, ctx.header.api_version);
  r.encode(w, ctx.header.api_version);
  const auto size = static_cast<int32_t>(out.size() - 4);
  for (int i = 0; i < 4; ++i) out[static_cast<size_t>(i)] = std::byte(static_cast<uint32_t>(size) >> (24 - 8 * i));
  return out;
}

using handler_fn = boost::asio::awaitable<void> (*)(request_context ctx);

}  // namespace server::kafka
