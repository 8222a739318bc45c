#pragma once
// The Kafka listener: accepts on one io_context and spreads connections round-robin over all of
// them, so that each connection lives on one io thread for its whole life.
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server/kafka/broker_context.h"

namespace server::kafka {

class connection;

class kafka_server {
 public:
  kafka_server(broker_context& broker, std::vector<boost::asio::io_context*> contexts);
  // Binds and listens on config.listen; throws std::runtime_error naming the address on failure.
  void start();
  void stop_accepting();
  // Every connection stops reading requests; those already read are still answered.
  void stop_reading();
  // Waits (bounded) until every connection has sent its pending answers, then closes them all.
  void drain_and_close(std::chrono::milliseconds budget);
  size_t open_connections() const;

 private:
  void accept_next();
  std::vector<std::shared_ptr<connection>> live_connections() const;

  broker_context& broker_;
  std::vector<boost::asio::io_context*> contexts_;
  boost::asio::ip::tcp::acceptor acceptor_;
  size_t next_context_ = 0;  // only touched on contexts_[0]
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<connection>> connections_;  // guarded by mu_
};

}  // namespace server::kafka
