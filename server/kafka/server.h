#pragma once
// The Kafka listener: accepts on one io_context and spreads connections round-robin over all of
// them, so that each connection lives on one io thread for its whole life.
#include <map>
#include <memory>
#include <mutex>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

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
  // A connection ended (its socket closed): it no longer counts against the caps.
  void connection_closed(const boost::asio::ip::address& peer);

 private:
  void accept_next();
  // Accepting failed for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM): wait, then go on.
  void back_off(const boost::system::error_code& ec);
  // False (after a rate-limited log line) when the global or per-address cap is reached.
  bool admit(const boost::asio::ip::address& peer);
  std::vector<std::shared_ptr<connection>> live_connections() const;

  broker_context& broker_;
  std::vector<boost::asio::io_context*> contexts_;
  boost::asio::ip::tcp::acceptor acceptor_;
  size_t next_context_ = 0;            // only touched on contexts_[0]
  boost::asio::steady_timer backoff_;  // on contexts_[0]
  // Accept failures and refusals since the last log line about them (contexts_[0] only): a full
  // fd table or a flood must not turn into a flood of log lines.
  uint64_t accept_errors_ = 0;
  uint64_t refused_ = 0;
  std::chrono::steady_clock::time_point last_accept_log_{};
  std::chrono::steady_clock::time_point last_refusal_log_{};
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<connection>> connections_;      // guarded by mu_
  std::map<boost::asio::ip::address, size_t> per_address_;  // guarded by mu_: open connections
  size_t open_ = 0;                                         // guarded by mu_
};

}  // namespace server::kafka
