#include "server/kafka/connection.h"

#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "server/kafka/api_table.h"
#include "server/kafka/logger.h"
#include "server/protocol/api_versions.h"

namespace asio = boost::asio;
using asio::use_awaitable;

namespace server::kafka {

std::optional<std::string> frame_size_refusal(int32_t size, uint64_t max_request_bytes) {
  if (size >= 8 && static_cast<uint64_t>(size) <= max_request_bytes) return std::nullopt;
  return "request frame size " + std::to_string(size) + " is outside 8.." + std::to_string(max_request_bytes) +
         " bytes";
}

frame_peek peek_frame(std::span<const std::byte> frame) {
  protocol::reader r(frame);
  frame_peek p;
  p.header.api_key = r.read_int16();
  p.header.api_version = r.read_int16();
  p.header.correlation_id = r.read_int32();
  p.api = find_api_entry(p.header.api_key);
  if (!p.api) return p;
  if (p.header.api_version >= p.api->info.min_version && p.header.api_version <= p.api->info.max_version)
    p.next = frame_action::handle;
  else if (p.header.api_key == static_cast<int16_t>(protocol::api_key::api_versions))
    p.next = frame_action::answer_unsupported_version;
  return p;
}

std::vector<std::byte> unsupported_api_versions_answer(int32_t correlation_id) {
  protocol::api_versions_response resp;
  resp.error = protocol::error_code::unsupported_version;
  for (auto& e : api_table())
    resp.api_keys.push_back({static_cast<int16_t>(e.info.key), e.info.min_version, e.info.max_version});
  std::vector<std::byte> out;
  protocol::writer w(out);
  w.write_int32(0);
  w.write_int32(correlation_id);
  resp.encode(w, 0);
  const auto size = static_cast<uint32_t>(out.size() - 4);
  for (int i = 0; i < 4; ++i) out[static_cast<size_t>(i)] = std::byte(size >> (24 - 8 * i));
  return out;
}

connection::connection(asio::ip::tcp::socket socket, broker_context& broker, std::function<void()> on_closed)
    : socket_(std::move(socket)), broker_(broker), on_closed_(std::move(on_closed)),
      writer_wake_(socket_.get_executor()), reader_wake_(socket_.get_executor()),
      watchdog_timer_(socket_.get_executor()), last_activity_(std::chrono::steady_clock::now()),
      last_progress_(last_activity_) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("unknown") : ep.address().to_string() + ":" + std::to_string(ep.port());
  client_host_ = std::make_shared<const std::string>(ec ? std::string("/unknown") : "/" + ep.address().to_string());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  writer_wake_.expires_at(asio::steady_timer::time_point::max());
  reader_wake_.expires_at(asio::steady_timer::time_point::max());
}

void connection::start() {
  broker_.metrics.kafka.connections_open.Increment();
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self]() { return self->read_loop(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self]() { return self->write_loop(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self]() { return self->watchdog(); }, asio::detached);
}

void connection::close(std::string_view why) {
  if (closed_) return;
  closed_ = true;
  broker_.metrics.kafka.connections_open.Decrement();
  if (uint64_t suppressed = 0; !why.empty() && client_line_allowed(suppressed)) {
    if (suppressed)
      log().info("closing connection from {}: {} ({} similar line(s) suppressed)", peer_, why, suppressed);
    else log().info("closing connection from {}: {}", peer_, why);
  }
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  writer_wake_.cancel();
  reader_wake_.cancel();
  watchdog_timer_.cancel();
  if (on_closed_) std::exchange(on_closed_, nullptr)();
}

void connection::stop_reading() {
  if (closed_ || draining_) return;
  draining_ = true;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
  reader_wake_.cancel();
}

asio::awaitable<void> connection::read_loop() {
  auto self = shared_from_this();
  try {
    for (;;) {
      unsigned char size_bytes[4];
      size_t got = co_await socket_.async_read_some(asio::buffer(size_bytes), use_awaitable);
      if (got < sizeof size_bytes) {  // a prefix that stops half way is a stalled frame too
        mid_frame_ = true;
        last_progress_ = std::chrono::steady_clock::now();
        while (got < sizeof size_bytes) {
          got +=
              co_await socket_.async_read_some(asio::buffer(size_bytes + got, sizeof size_bytes - got), use_awaitable);
          last_progress_ = std::chrono::steady_clock::now();
        }
        mid_frame_ = false;
      }
      const int32_t size = static_cast<int32_t>((uint32_t(size_bytes[0]) << 24) | (uint32_t(size_bytes[1]) << 16) |
                                                (uint32_t(size_bytes[2]) << 8) | uint32_t(size_bytes[3]));
      if (auto refused = frame_size_refusal(size, broker_.config.max_request_bytes)) {
        close(*refused);
        co_return;
      }
      last_activity_ = std::chrono::steady_clock::now();
      auto frame = co_await read_frame(static_cast<size_t>(size));
      if (!frame || draining_) co_return;
      co_await dispatch(std::move(frame));
      if (closed_ || draining_) co_return;
      while (slots_.size() >= max_in_flight_requests && !closed_ && !draining_) {
        boost::system::error_code ec;
        co_await reader_wake_.async_wait(asio::redirect_error(use_awaitable, ec));
        reader_wake_.expires_at(asio::steady_timer::time_point::max());
      }
    }
  } catch (const boost::system::system_error& e) {
    // EOF and resets are how clients say goodbye; anything else is worth a debug line.
    if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted &&
        e.code() != asio::error::connection_reset)
      log().debug("connection from {} read error: {}", peer_, e.code().message());
  }
  // While draining, the writer still owes answers: drain_and_close closes once they are out.
  if (!draining_) close("");
}

asio::awaitable<std::shared_ptr<std::vector<std::byte>>> connection::read_frame(size_t size) {
  constexpr size_t chunk_bytes = 64 << 10;
  auto& budget = *broker_.frames;
  if (size > budget.limit()) {
    close("request frame size " + std::to_string(size) + " is larger than --max-buffered-request-bytes " +
          std::to_string(budget.limit()));
    co_return nullptr;
  }
  // Released however the read ends (a close, an error, the frame handed on).
  struct hold {
    partial_frames& b;
    size_t bytes = 0;
    ~hold() { b.release(bytes); }
  } held{budget};
  auto frame = std::make_shared<std::vector<std::byte>>();
  mid_frame_ = true;
  last_progress_ = std::chrono::steady_clock::now();
  while (frame->size() < size) {
    const size_t at = frame->size();
    const size_t n = std::min(chunk_bytes, size - at);
    if (frame->capacity() < at + n) {
      // Grow geometrically (bounded by the frame), and count the capacity, not the size: what is
      // counted is what is allocated. When the budget is spent the frame waits (its bytes stay
      // in the socket: TCP pushes back on the client), as Kafka mutes a channel while its
      // memory pool is exhausted. A frame of one chunk holds nothing while it waits, so small
      // requests (most of them) wait as long as their read timeout allows. A bigger frame
      // waits while holding what it has, so big frames can starve each other: one that could
      // not grow for a second is refused, which frees its share for the rest.
      const size_t cap = std::min(size, std::max(at + n, 2 * frame->capacity()));
      const auto waiting_since = std::chrono::steady_clock::now();
      while (!budget.try_acquire(cap - held.bytes)) {
        waiting_for_memory_ = true;
        if (held.bytes > 0 && std::chrono::steady_clock::now() - waiting_since > std::chrono::seconds(1)) {
          mid_frame_ = false;
          close("request frames being received hold all of --max-buffered-request-bytes " +
                std::to_string(budget.limit()) + " and this " + std::to_string(size) +
                "-byte frame could not grow for 1 s; refused");
          co_return nullptr;
        }
        asio::steady_timer pause(socket_.get_executor(), std::chrono::milliseconds(10));
        boost::system::error_code ec;
        co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
        if (closed_ || draining_) {
          mid_frame_ = false;
          co_return nullptr;
        }
      }
      waiting_for_memory_ = false;
      held.bytes = cap;
      frame->reserve(cap);
    }
    frame->resize(at + n);
    // Progress is every read that brings bytes, not every chunk: a frame arriving slowly but
    // steadily is not a stalled one.
    for (size_t got = 0; got < n;) {
      got += co_await socket_.async_read_some(asio::buffer(frame->data() + at + got, n - got), use_awaitable);
      last_progress_ = std::chrono::steady_clock::now();
    }
  }
  mid_frame_ = false;
  co_return frame;
}

asio::awaitable<void> connection::watchdog() {
  auto self = shared_from_this();
  const auto idle = broker_.config.connections_max_idle;
  const auto stall = broker_.config.request_read_timeout;
  const auto tick = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(50), std::min(idle, stall) / 4);
  while (!closed_) {
    watchdog_timer_.expires_after(tick);
    boost::system::error_code ec;
    co_await watchdog_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (closed_) co_return;
    const auto now = std::chrono::steady_clock::now();
    if (mid_frame_ && now - last_progress_ > stall) {
      broker_.metrics.kafka.connections_timed_out.Increment();
      if (waiting_for_memory_)
        close("a request frame waited more than " + std::to_string(stall.count()) +
              " ms (--request-read-timeout-ms) for memory: partly received frames hold all of "
              "--max-buffered-request-bytes " +
              std::to_string(broker_.frames->limit()));
      else
        close("a request frame stopped arriving for more than " + std::to_string(stall.count()) +
              " ms (--request-read-timeout-ms)");
      co_return;
    }
    const bool busy = mid_frame_ || !slots_.empty() || writing_;
    if (!busy && now - last_activity_ > idle) {
      broker_.metrics.kafka.connections_timed_out.Increment();
      close("idle for more than " + std::to_string(idle.count()) + " ms (--connections-max-idle-ms)");
      co_return;
    }
  }
}

asio::awaitable<void> connection::dispatch(std::shared_ptr<std::vector<std::byte>> frame) {
  protocol::request_header h;
  try {
    const frame_peek peek = peek_frame(*frame);
    h = peek.header;
    const api_entry* api = peek.api;
    if (!api) {
      close("unknown api key " + std::to_string(h.api_key) + " (correlation id " + std::to_string(h.correlation_id) +
            ")");
      co_return;
    }
    auto s = std::make_shared<slot>();
    if (peek.next == frame_action::answer_unsupported_version) {
      slots_.push_back(s);
      s->bytes = unsupported_api_versions_answer(h.correlation_id);
      complete(s);
      co_return;
    }
    if (peek.next == frame_action::close) {
      close(std::string(api->info.name) + " v" + std::to_string(h.api_version) + " is not supported (supported v" +
            std::to_string(api->info.min_version) + "-" + std::to_string(api->info.max_version) + ")");
      co_return;
    }
    if (auto* c = broker_.metrics.kafka.request(h.api_key, h.api_version)) c->Increment();
    protocol::reader full(*frame);
    h = protocol::request_header::decode(full);
    if (h.api_key == static_cast<int16_t>(protocol::api_key::produce)) {
      s->unanswered = &broker_.produces_unanswered;
      s->unanswered->fetch_add(1, std::memory_order_relaxed);
    }
    slots_.push_back(s);
    std::weak_ptr<connection> weak = shared_from_this();
    request_context ctx{h,
                        frame,
                        full,
                        broker_,
                        socket_.get_executor(),
                        std::chrono::steady_clock::now(),
                        [weak, s](std::vector<std::byte> bytes) {
                          if (auto c = weak.lock()) {
                            s->bytes = std::move(bytes);
                            c->complete(s);
                          }
                        },
                        [weak, s]() {
                          if (auto c = weak.lock()) {
                            s->skip = true;
                            c->complete(s);
                          }
                        },
                        timing_,
                        client_host_,
                        [weak] {
                          auto c = weak.lock();
                          boost::system::error_code ec;
                          return c && c->socket_.available(ec) > 0 && !ec;
                        }};
    co_await api->handle(std::move(ctx));
  } catch (const protocol::protocol_error& e) {
    close("malformed request (api key " + std::to_string(h.api_key) + " v" + std::to_string(h.api_version) +
          ", correlation id " + std::to_string(h.correlation_id) + "): " + e.what());
  }
}

void connection::complete(const std::shared_ptr<slot>& s) {
  s->ready = true;
  if (!slots_.empty() && slots_.front() == s) writer_wake_.cancel();
}

asio::awaitable<void> connection::write_loop() {
  auto self = shared_from_this();
  std::vector<asio::const_buffer> bufs;
  std::vector<std::shared_ptr<slot>> sending;
  try {
    while (!closed_) {
      // Everything ready at the head goes out in one gathered write.
      while (!slots_.empty() && slots_.front()->ready) {
        if (!slots_.front()->skip) {
          bufs.emplace_back(asio::buffer(slots_.front()->bytes));
          sending.push_back(slots_.front());
        }
        slots_.pop_front();
      }
      if (!bufs.empty()) {
        reader_wake_.cancel();
        writing_ = true;
        co_await asio::async_write(socket_, bufs, use_awaitable);
        writing_ = false;
        last_activity_ = std::chrono::steady_clock::now();
        bufs.clear();
        sending.clear();
        continue;
      }
      boost::system::error_code ec;
      co_await writer_wake_.async_wait(asio::redirect_error(use_awaitable, ec));
      writer_wake_.expires_at(asio::steady_timer::time_point::max());
    }
  } catch (const boost::system::system_error& e) {
    log().debug("connection from {} write error: {}", peer_, e.code().message());
  }
  close("");
}

}  // namespace server::kafka
