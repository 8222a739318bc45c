#pragma once
// A small HTTP/1.1 server (Boost.Beast) for /metrics and the admin API. It runs on the control
// io_context (the main thread), never on a Kafka io thread.
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

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

}  // namespace server::admin
