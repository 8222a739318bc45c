#include "server/admin/http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace server::admin {
namespace {

asio::awaitable<void> session(asio::ip::tcp::socket sock, context& ctx) {
  beast::tcp_stream stream(std::move(sock));
  co_await serve_requests(stream, [&ctx](std::string_view method, std::string_view target, const std::string& body) {
    return route(ctx, method, target, body);
  });
  boost::system::error_code ec;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, context& ctx) {
  uint64_t failures = 0;
  std::chrono::steady_clock::time_point last_log{};
  for (;;) {
    boost::system::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
      // Out of fds or memory: accepting again at once fails again at once, on one core. Wait;
      // the Kafka listener's connections closing give fds back. Logged once per 5 s.
      ++failures;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_log >= std::chrono::seconds(5)) {
        spdlog::warn("admin listener: accept failed: {} ({} time(s) since the last report); pausing 100 ms",
                     ec.message(), failures);
        failures = 0;
        last_log = now;
      }
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), ctx), asio::detached);
  }
}

}  // namespace

http::response<http::string_body> http_response(const http::request<http::string_body>& req, response r) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
  res.set(http::field::server, "kairo");
  res.set(http::field::content_type, r.content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

http_server::http_server(asio::io_context& io, context& ctx) : acceptor_(io), ctx_(ctx) {}

void http_server::start(const endpoint& at) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(at.host, ec);
  if (ec) throw std::runtime_error("--admin-listen: '" + at.host + "' is not an IP address");
  asio::ip::tcp::endpoint ep(addr, at.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep, ec);
  if (ec) throw std::runtime_error("cannot listen on " + at.to_string() + " (metrics/admin): " + ec.message());
  acceptor_.listen();
  spdlog::info("metrics and admin API on http://{}", at.to_string());
  asio::co_spawn(acceptor_.get_executor(), accept_loop(acceptor_, ctx_), asio::detached);
}

void http_server::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

}  // namespace server::admin
