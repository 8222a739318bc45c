#pragma once
// One client connection: a reader coroutine that decodes request after request without waiting
// for answers (clients pipeline), and a writer coroutine that sends responses strictly in
// request order. Both run on the connection's io thread; no locks, no strands.
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/kafka/broker_context.h"
#include "server/kafka/request_context.h"

namespace server::kafka {

struct connection_stats;  // server/kafka/server.h

class connection : public std::enable_shared_from_this<connection> {
 public:
  // `on_closed` runs once, when the socket is closed (on the connection's executor).
  connection(boost::asio::ip::tcp::socket socket, broker_context& broker, std::function<void()> on_closed = {});
  void start();
  // Closes the socket; pending responses are dropped. Call on the connection's executor.
  void close(std::string_view why);
  // Shutdown: reads no further requests (the receive side is shut, so the client sees the
  // broker go away), while the answers of those already read still go out. Call on the
  // connection's executor.
  void stop_reading();
  // True when no answer is pending (used by shutdown to let in-flight answers drain).
  bool idle() const { return slots_.empty() && !writing_; }
  const std::string& peer() const { return peer_; }
  boost::asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  struct slot {
    std::vector<std::byte> bytes;
    bool ready = false;
    bool skip = false;  // no answer (acks=0)
  };

  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  // Closes a connection idle past connections.max.idle.ms, or whose frame stopped arriving for
  // the request read timeout. Wakes at a fraction of the shorter of the two: no timer work on
  // the request path.
  boost::asio::awaitable<void> watchdog();
  // Reads a frame of `size` bytes in chunks, its buffer growing with what arrived, each chunk
  // counted in the broker's partial_frames. Null when the budget is exhausted (closed).
  boost::asio::awaitable<std::shared_ptr<std::vector<std::byte>>> read_frame(size_t size);
  boost::asio::awaitable<void> dispatch(std::shared_ptr<std::vector<std::byte>> frame);
  void answer_unsupported_api_versions(int32_t correlation_id, const std::shared_ptr<slot>& s);
  void complete(const std::shared_ptr<slot>& s);

  boost::asio::ip::tcp::socket socket_;
  broker_context& broker_;
  std::function<void()> on_closed_;
  std::string peer_;
  std::deque<std::shared_ptr<slot>> slots_;  // requests awaiting their answer, in order
  boost::asio::steady_timer writer_wake_;    // cancelled when the head answer may be ready
  boost::asio::steady_timer reader_wake_;    // cancelled when in-flight requests drop
  boost::asio::steady_timer watchdog_timer_;
  std::chrono::steady_clock::time_point last_activity_;  // a request began or an answer left
  std::chrono::steady_clock::time_point last_progress_;  // bytes of the frame being read arrived
  bool mid_frame_ = false;                                // a frame's body is being read
  bool waiting_for_memory_ = false;                       // ... and waits for the frame budget
  std::shared_ptr<produce_timing> timing_ = std::make_shared<produce_timing>();
  std::shared_ptr<const std::string> client_host_;
  bool closed_ = false;
  bool draining_ = false;  // stop_reading() was called: the reader ends without closing
  bool writing_ = false;  // a gathered write is on its way to the socket
};

// Requests a connection may have in flight before the reader stops reading (backpressure).
inline constexpr size_t max_in_flight_requests = 1024;

}  // namespace server::kafka
