#pragma once
// A small HTTP/1.1 server (Boost.Beast) for /metrics and the admin API. It runs on the control
// io_context (the main thread), never on a Kafka io thread.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "server/admin/routes.h"
#include "server/config.h"

namespace server::admin {

class http_server {
 public:
  http_server(boost::asio::io_context& io, context& ctx);
  // Binds and listens; throws std::runtime_error naming the address on failure.
  void start(const endpoint& at);
  void stop();

 private:
  boost::asio::ip::tcp::acceptor acceptor_;
  context& ctx_;
};

// A request (or the next one on a kept-alive connection) must arrive within this; a scraper
// that connects and says nothing does not hold its socket for ever.
inline constexpr auto request_timeout = std::chrono::seconds(30);
// The largest request body read; a larger one ends the connection unanswered.
inline constexpr uint64_t max_request_body_bytes = 1 << 20;

// route()'s answer as the HTTP response to `req`: in the request's HTTP version, keeping the
// connection alive when the request asks to, with its Content-Length.
boost::beast::http::response<boost::beast::http::string_body> http_response(
    const boost::beast::http::request<boost::beast::http::string_body>& req, response r);

// One connection's conversation, on any Beast stream: a tcp_stream in http_server, an in-memory
// stream in tests/fuzz/admin_http_fuzz.cc. Request after request over one read buffer, each read
// by a fresh parser and answered in order by `respond` (route(), or anything of its signature:
// method, target, body -> response) through http_response(). Ends when a read or a write fails
// or after an answer that does not keep the connection alive. A stream with deadlines
// (tcp_stream) gets request_timeout for each request to arrive, and none while the answer is
// written. REQUIRES: `stream` outlives the coroutine.
template <class Stream, class Respond>
boost::asio::awaitable<void> serve_requests(Stream& stream, Respond respond) {
  namespace http = boost::beast::http;
  boost::beast::flat_buffer buffer;
  try {
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(max_request_body_bytes);
      if constexpr (requires { stream.expires_after(request_timeout); }) stream.expires_after(request_timeout);
      co_await http::async_read(stream, buffer, parser, boost::asio::use_awaitable);
      if constexpr (requires { stream.expires_never(); }) stream.expires_never();
      auto& req = parser.get();
      auto res = http_response(req, respond(std::string_view(req.method_string().data(), req.method_string().size()),
                                            std::string_view(req.target().data(), req.target().size()), req.body()));
      co_await http::async_write(stream, res, boost::asio::use_awaitable);
      if (!res.keep_alive()) break;
    }
  } catch (const boost::system::system_error&) {
    // The client went away or sent something that is not HTTP: nothing to answer.
  }
}

}  // namespace server::admin
