#include "server/kafka/server.h"

#include <future>
#include <thread>

#include <boost/asio/post.hpp>

#include "server/kafka/connection.h"
#include "server/kafka/logger.h"

namespace asio = boost::asio;

namespace server::kafka {

kafka_server::kafka_server(broker_context& broker, std::vector<asio::io_context*> contexts)
    : broker_(broker), contexts_(std::move(contexts)), acceptor_(*contexts_.front()), backoff_(*contexts_.front()) {}

void kafka_server::start() {
  const auto& l = broker_.config.listen;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(l.host, ec);
  if (ec) throw std::runtime_error("--listen: '" + l.host + "' is not an IP address");
  asio::ip::tcp::endpoint ep(addr, l.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep, ec);
  if (ec) throw std::runtime_error("cannot listen on " + l.to_string() + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections);
  log().info("Kafka listener on {} (advertised as {})", l.to_string(),
             broker_.config.advertised_or_listen().to_string());
  accept_next();
}

void kafka_server::accept_next() {
  auto& target = *contexts_[next_context_++ % contexts_.size()];
  acceptor_.async_accept(target, [this](boost::system::error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
          ec.value() == ENFILE)
        return back_off(ec);
      log().warn("accept failed: {}", ec.message());
      return accept_next();
    }
    boost::system::error_code pe;
    const auto peer = socket.remote_endpoint(pe).address();
    if (pe || !admit(peer)) {
      socket.close(pe);
      return accept_next();
    }
    auto ex = socket.get_executor();
    auto c = std::make_shared<connection>(std::move(socket), broker_, [this, peer] { connection_closed(peer); });
    broker_.metrics.kafka.connections_total.Increment();
    {
      std::lock_guard lock(mu_);
      std::erase_if(connections_, [](auto& w) { return w.expired(); });
      connections_.push_back(c);
    }
    asio::post(ex, [c] { c->start(); });
    accept_next();
  });
}

void kafka_server::back_off(const boost::system::error_code& ec) {
  // Out of file descriptors (or kernel memory): accepting again at once would fail at once, for
  // ever, on one core. Wait a little; connections that close meanwhile give fds back.
  ++accept_errors_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_accept_log_ >= std::chrono::seconds(5)) {
    log().warn(
        "accept failed: {} ({} time(s) since the last report); pausing accepts for 100 ms. "
        "Raise the fd limit (ulimit -n) or lower --max-connections",
        ec.message(), accept_errors_);
    accept_errors_ = 0;
    last_accept_log_ = now;
  }
  broker_.metrics.kafka.accept_errors.Increment();
  backoff_.expires_after(std::chrono::milliseconds(100));
  backoff_.async_wait([this](const boost::system::error_code& e) {
    if (!e && acceptor_.is_open()) accept_next();
  });
}

bool kafka_server::admit(const asio::ip::address& peer) {
  const auto& cfg = broker_.config;
  std::string why;
  {
    std::lock_guard lock(mu_);
    size_t& from_peer = per_address_[peer];
    if (open_ >= cfg.max_connections) {
      why = "the broker has --max-connections " + std::to_string(cfg.max_connections) + " open";
    } else if (from_peer >= cfg.max_connections_per_ip) {
      why = peer.to_string() + " has --max-connections-per-ip " + std::to_string(cfg.max_connections_per_ip) + " open";
    } else {
      ++from_peer;
      ++open_;
      return true;
    }
    if (from_peer == 0) per_address_.erase(peer);
  }
  ++refused_;
  broker_.metrics.kafka.connections_refused.Increment();
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ >= std::chrono::seconds(5)) {
    log().warn("refused a connection from {}: {} ({} refused since the last report)", peer.to_string(), why, refused_);
    refused_ = 0;
    last_refusal_log_ = now;
  }
  return false;
}

void kafka_server::connection_closed(const asio::ip::address& peer) {
  std::lock_guard lock(mu_);
  --open_;
  auto it = per_address_.find(peer);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

void kafka_server::stop_accepting() {
  std::promise<void> done;
  asio::post(acceptor_.get_executor(), [&] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    done.set_value();
  });
  done.get_future().wait();
}

std::vector<std::shared_ptr<connection>> kafka_server::live_connections() const {
  std::vector<std::shared_ptr<connection>> out;
  std::lock_guard lock(mu_);
  for (auto& w : connections_)
    if (auto c = w.lock()) out.push_back(std::move(c));
  return out;
}

size_t kafka_server::open_connections() const { return live_connections().size(); }

void kafka_server::stop_reading() {
  for (auto& c : live_connections()) {
    std::promise<void> done;
    asio::post(c->executor(), [&] {
      c->stop_reading();
      done.set_value();
    });
    done.get_future().wait();
  }
}

void kafka_server::drain_and_close(std::chrono::milliseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  auto conns = live_connections();
  for (auto& c : conns) {
    // Each connection is asked on its own thread; no state is read across threads.
    for (;;) {
      std::promise<bool> idle;
      asio::post(c->executor(), [&] { idle.set_value(c->idle()); });
      if (idle.get_future().get() || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::promise<void> closed;
    asio::post(c->executor(), [&] {
      c->close("");
      closed.set_value();
    });
    closed.get_future().wait();
  }
}

}  // namespace server::kafka
