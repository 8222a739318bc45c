#pragma once
// One client connection: a reader coroutine that decodes request after request without waiting
// for answers (clients pipeline), and a writer coroutine that sends responses strictly in
// request order. Both run on the connection's io thread; no locks, no strands.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/kafka/broker_context.h"
#include "server/kafka/request_context.h"

namespace server::kafka {

struct connection_stats;  // server/kafka/server.h
struct api_entry;         // server/kafka/api_table.h

// The connection's framing rules, apart from the socket so that tests/fuzz/framing_fuzz.cc
// drives the same code. Pure; callable from any thread.

// A request frame holds 8 to max_request_bytes bytes: its first 8 (api key, api version,
// correlation id) are read before the API is known. Nothing when `size` is acceptable, otherwise
// why not, in words; the connection then closes.
std::optional<std::string> frame_size_refusal(int32_t size, uint64_t max_request_bytes);

// What the connection does with a frame, decided from its first three fields.
enum class frame_action {
  handle,                      // decode the header in full and call api->handle
  answer_unsupported_version,  // ApiVersions of a version this broker does not know
  close,                       // an unknown api key, or any other API's unknown version
};
struct frame_peek {
  frame_action next = frame_action::close;
  protocol::request_header header;  // api_key, api_version and correlation_id only
  const api_entry* api = nullptr;   // null for an unknown api key
};
// REQUIRES: frame.size() >= 8 (frame_size_refusal), or it throws protocol::protocol_error.
frame_peek peek_frame(std::span<const std::byte> frame);

// The framed answer (size, v0 response header, v0 body) to an ApiVersions request of a version
// this broker does not know: UNSUPPORTED_VERSION and every API's supported range, so that the
// client can retry with a version it finds there (Kafka's rule).
std::vector<std::byte> unsupported_api_versions_answer(int32_t correlation_id);

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
    bool skip = false;                           // no answer (acks=0)
    std::atomic<int64_t>* unanswered = nullptr;  // a produce's: counted down once written or dropped
    slot() = default;
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() {
      if (unanswered) unanswered->fetch_sub(1, std::memory_order_relaxed);
    }
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
  bool mid_frame_ = false;                               // a frame's body is being read
  bool waiting_for_memory_ = false;                      // ... and waits for the frame budget
  std::shared_ptr<produce_timing> timing_ = std::make_shared<produce_timing>();
  std::shared_ptr<const std::string> client_host_;
  bool closed_ = false;
  bool draining_ = false;  // stop_reading() was called: the reader ends without closing
  bool writing_ = false;   // a gathered write is on its way to the socket
};

// Requests a connection may have in flight before the reader stops reading (backpressure).
inline constexpr size_t max_in_flight_requests = 1024;

}  // namespace server::kafka
