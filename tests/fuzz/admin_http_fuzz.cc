// libFuzzer target for the metrics/admin HTTP API (server/admin/): the HTTP/1.1 request parsing
// a session does (Boost.Beast's request_parser, string body, body limit 1 MiB, keep-alive
// requests one after another) and route(), the pure function from method, target and body to a
// response, which parses the JSON bodies of PUT /v1/produce/policy and
// PUT /v1/experiment/sync-delay (parse_sync_delay) and applies them to a real produce pipeline
// over a real engine (in memory).
//
// Input: byte 0 is a set of flags, the rest is what a client sends.
//   0x01  direct: "METHOD TARGET\n" then the body, straight to route() (HTTP framing would
//         otherwise need a Content-Length that follows every mutation of the body)
//   0x0e  (bits 1-3, n) the socket delivers at most 2^n bytes per read (n = 0: 1 byte; 7: all),
//         as a slow client would, so the parser resumes mid-line and mid-body
//   0x10  the broker is not ready yet (/readyz answers 503)
// The HTTP session loop is restated here (http_server.cc runs it as a coroutine on a socket): a
// fresh parser per request over the one read buffer, route(), a response with the request's
// version and keep-alive, serialized; the loop ends at the first read error or a response that
// does not keep the connection alive.
//
// Beyond not crashing: route answers only statuses the API documents; a JSON answer is JSON; a
// 400 names the field and changed nothing (the policy, profile and sync delay are as before).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "engine/broker.h"
#include "engine/produce_pipeline.h"
#include "server/admin/routes.h"
#include "server/config.h"
#include "server/metrics.h"
#include "tests/fuzz/fuzz_fixtures.h"
#include "wal/mem_file_system.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using server::admin::route;

// A socket that holds the whole input and hands it out at most `chunk` bytes per read.
class memory_stream {
 public:
  using executor_type = asio::any_io_executor;
  memory_stream(std::string_view in, size_t chunk) : in_(in), chunk_(chunk) {}

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
    if (at_ == in_.size()) {
      ec = asio::error::eof;
      return 0;
    }
    const size_t n = asio::buffer_copy(buffers, asio::buffer(in_.data() + at_, std::min(chunk_, in_.size() - at_)));
    at_ += n;
    ec = {};
    return n;
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    beast::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

 private:
  std::string_view in_;
  size_t chunk_;
  size_t at_ = 0;
};

struct fixture {
  std::shared_ptr<wal::mem_file_system> fs = std::make_shared<wal::mem_file_system>();
  std::unique_ptr<engine::log_manager> engine;
  server::metrics::registry metrics;
  std::unique_ptr<engine::produce_pipeline> pipeline;
  std::atomic<bool> ready{true};
  server::serve_config config;
  std::unique_ptr<server::admin::context> ctx;
  std::pair<engine::profile, engine::produce_policy> initial;

  fixture() {
    engine::config cfg;
    cfg.data_dir = kairo_fuzz::data_dir;
    auto opened = engine::log_manager::open(cfg, fs);
    if (!opened) std::abort();
    engine = std::move(*opened);
    initial = config.initial_policy();
    pipeline = std::make_unique<engine::produce_pipeline>(engine->wal(), initial.first, initial.second,
                                                          config.simulated_sync_delay);
    ctx.reset(new server::admin::context{metrics, *pipeline, *engine, ready, config, std::chrono::steady_clock::now(),
                                         [this] {
                                           metrics.pipeline.pending_batches.Set(
                                               static_cast<double>(engine->wal().queued_records()));
                                         },
                                         [] { return nlohmann::json{{"state", "fuzzing"}}; }});
  }

  // Every input starts from the same policy and sync delay.
  void reset() {
    const auto st = pipeline->current();
    if (st.active != initial.first || st.policy != initial.second) pipeline->set_policy(initial.first, initial.second, "fuzz reset");
    if (!(st.sync_delay == config.simulated_sync_delay)) pipeline->set_sync_delay(config.simulated_sync_delay);
  }
};

fixture* the_fixture = nullptr;

bool same_state(const engine::produce_pipeline::state& a, const engine::produce_pipeline::state& b) {
  return a.active == b.active && a.policy == b.policy && a.sync_delay == b.sync_delay && a.changes == b.changes;
}

// route(), and what its answer must look like.
server::admin::response checked_route(std::string_view method, std::string_view target, const std::string& body) {
  auto& f = *the_fixture;
  const auto before = f.pipeline->current();
  auto r = route(*f.ctx, method, target, body);
  switch (r.status) {
    case 200: case 400: case 404: case 405: case 503: break;
    default: std::abort();
  }
  if (r.content_type == "application/json" && !nlohmann::json::accept(r.body)) std::abort();
  if (r.status == 400) {
    auto j = nlohmann::json::parse(r.body);
    if (!j.contains("field") || !j["field"].is_string() || !same_state(before, f.pipeline->current())) std::abort();
  }
  return r;
}

void direct(std::string_view in) {
  const auto eol = in.find('\n');
  const auto line = in.substr(0, eol);
  const auto sp = line.find(' ');
  const auto method = line.substr(0, sp);
  const auto target = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  const std::string body(eol == std::string_view::npos ? std::string_view() : in.substr(eol + 1));
  checked_route(method, target, body);
}

// http_server.cc's session, minus the socket.
void session(std::string_view in, size_t chunk) {
  memory_stream stream(in, chunk);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec) return;  // the client went away or sent something that is not HTTP
    auto& req = parser.get();
    auto r = checked_route(std::string_view(req.method_string().data(), req.method_string().size()),
                           std::string_view(req.target().data(), req.target().size()), req.body());
    http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
    res.set(http::field::server, "kairo");
    res.set(http::field::content_type, r.content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(r.body);
    res.prepare_payload();
    std::ostringstream out;
    out << res;
    if (!res.keep_alive()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // every policy change is logged
  the_fixture = new fixture();  // lives for the process: the engine's WAL thread runs meanwhile
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  the_fixture->reset();
  the_fixture->ready = (flags & 0x10) == 0;
  if (flags & 0x01) {
    direct(in);
  } else {
    const unsigned n = (flags >> 1) & 0x07;
    session(in, n == 7 ? in.size() + 1 : size_t{1} << n);
  }
  return 0;
}
