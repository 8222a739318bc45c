// libFuzzer target for the metrics/admin HTTP API (server/admin/): the session a connection runs
// (serve_requests in http_server.h: Boost.Beast's request_parser, string body, body limit 1 MiB,
// keep-alive requests one after another, http_response) on an in-memory stream, and route(), the
// pure function from method, target and body to a response, which parses the JSON bodies of
// PUT /v1/produce/policy and PUT /v1/experiment/sync-delay (parse_sync_delay) and applies them
// to a real produce pipeline over a real engine (in memory), and the topic administration
// (/v1/topics: create, delete, configs, partitions) and groups (/v1/groups) endpoints.
//
// Input: byte 0 is a set of flags, the rest is what a client sends.
//   0x01  direct: "METHOD TARGET\n" then the body, straight to route() (HTTP framing would
//         otherwise need a Content-Length that follows every mutation of the body)
//   0x0e  (bits 1-3, n) the socket delivers at most 2^n bytes per read (n = 0: 1 byte; 7: all),
//         as a slow client would, so the parser resumes mid-line and mid-body
//   0x10  the broker is not ready yet (/readyz answers 503)
// The session is the server's own coroutine, given route() wrapped in the checks below; it runs
// to its end on a private io_context per input, as it would on a socket that delivers the input
// and then reaches EOF.
//
// Beyond not crashing: route answers only statuses the API documents; a JSON answer is JSON; a
// 400 names the field and changed nothing (the policy, profile, sync delay and topics are as
// before); what the session wrote is one well-formed HTTP response per request routed, in order.
// Every input starts with no topics (reset deletes what the last one made), so an input that
// fails does so on its own.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "engine/broker.h"
#include "engine/produce_pipeline.h"
#include "server/admin/http_server.h"
#include "server/admin/routes.h"
#include "server/config.h"
#include "server/metrics.h"
#include "tests/fuzz/fuzz_fixtures.h"
#include "tests/support/mem_file_system.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using server::admin::route;

// A socket that holds the whole input, hands it out at most `chunk` bytes per read, then EOF,
// and keeps what is written to it. Completions are posted, as a socket's are.
class memory_stream {
 public:
  using executor_type = asio::io_context::executor_type;
  memory_stream(executor_type ex, std::string_view in, size_t chunk) : ex_(ex), in_(in), chunk_(chunk) {}
  executor_type get_executor() const { return ex_; }
  const std::string& written() const { return out_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code, size_t)>(
        [this, buffers](auto handler) {
          beast::error_code ec;
          size_t n = 0;
          if (at_ == in_.size()) {
            ec = asio::error::eof;
          } else {
            n = asio::buffer_copy(buffers, asio::buffer(in_.data() + at_, std::min(chunk_, in_.size() - at_)));
            at_ += n;
          }
          asio::post(ex_, beast::bind_front_handler(std::move(handler), ec, n));
        },
        token);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code, size_t)>(
        [this, buffers](auto handler) {
          const size_t n = asio::buffer_size(buffers);
          const size_t at = out_.size();
          out_.resize(at + n);
          asio::buffer_copy(asio::buffer(out_.data() + at, n), buffers);
          asio::post(ex_, beast::bind_front_handler(std::move(handler), beast::error_code{}, n));
        },
        token);
  }

 private:
  executor_type ex_;
  std::string_view in_;
  size_t chunk_;
  size_t at_ = 0;
  std::string out_;
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
    cfg.sync_delay = config.simulated_sync_delay;
    auto opened = engine::log_manager::open(cfg, fs);
    if (!opened) std::abort();
    engine = std::move(*opened);
    initial = config.initial_policy();
    pipeline = std::make_unique<engine::produce_pipeline>(*engine, initial.first, initial.second);
    ctx.reset(new server::admin::context{
        metrics, *pipeline, *engine, ready, config, std::chrono::steady_clock::now(),
        [this] { metrics.pipeline.pending_batches.Set(static_cast<double>(engine->queued().records)); },
        [] {
          return nlohmann::json{{"state", "fuzzing"}};
        },
        [] {
          return nlohmann::json{
              {"groups", {{{"group_id", "g"}, {"state", "Stable"}, {"members", nlohmann::json::array()}, {"lag", 0}}}}};
        },
        [](const std::string&) {}});
  }

  // Every input starts from the same policy and sync delay.
  void reset() {
    const auto st = pipeline->current();
    if (st.active != initial.first || st.policy != initial.second)
      pipeline->set_policy(initial.first, initial.second, "fuzz reset");
    if (!(engine->sync_delay() == config.simulated_sync_delay)) engine->set_sync_delay(config.simulated_sync_delay);
    for (const auto& t : engine->list_topics())
      if (!engine->delete_topic(t.name)) std::abort();
  }
};

fixture* the_fixture = nullptr;

// What a refused request must leave as it was.
struct settings {
  engine::produce_pipeline::state pipeline;
  engine::simulated_sync_delay sync_delay;
  std::vector<std::pair<std::string, int32_t>> topics;  // name, partitions
  std::vector<engine::topic_configs> configs;
};
settings settings_now() {
  settings s{the_fixture->pipeline->current(), the_fixture->engine->sync_delay(), {}, {}};
  for (const auto& t : the_fixture->engine->list_topics()) {
    s.topics.emplace_back(t.name, t.partitions);
    s.configs.push_back(t.configs);
  }
  return s;
}
bool same_settings(const settings& a, const settings& b) {
  return a.pipeline.active == b.pipeline.active && a.pipeline.policy == b.pipeline.policy &&
         a.pipeline.changes == b.pipeline.changes && a.sync_delay == b.sync_delay && a.topics == b.topics &&
         a.configs == b.configs;
}

// route(), and what its answer must look like.
server::admin::response checked_route(std::string_view method, std::string_view target, const std::string& body) {
  auto& f = *the_fixture;
  const auto before = settings_now();
  auto r = route(*f.ctx, method, target, body);
  switch (r.status) {
    case 200:
    case 201:  // a topic created
    case 400:
    case 404:
    case 405:
    case 409:  // the topic exists
    case 503: break;
    default: std::abort();
  }
  if (r.content_type == "application/json" && !nlohmann::json::accept(r.body)) std::abort();
  if (r.status == 400) {
    auto j = nlohmann::json::parse(r.body);
    if (!j.contains("field") || !j["field"].is_string() || !same_settings(before, settings_now())) std::abort();
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

// What a session wrote parses as `expected` HTTP responses, back to back, with the statuses
// route() gave in that order.
void check_written(std::string_view out, const std::vector<int>& expected) {
  for (const int status : expected) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    while (!parser.is_done()) {
      beast::error_code ec;
      const size_t used = parser.put(asio::buffer(out.data(), out.size()), ec);
      if (ec || (used == 0 && !parser.is_done())) std::abort();
      out.remove_prefix(used);
    }
    if (parser.get().result_int() != static_cast<unsigned>(status)) std::abort();
  }
  if (!out.empty()) std::abort();
}

// The server's session (http_server.h), on the input instead of a socket.
void session(std::string_view in, size_t chunk) {
  asio::io_context io;
  memory_stream stream(io.get_executor(), in, chunk);
  std::vector<int> statuses;
  asio::co_spawn(io,
                 server::admin::serve_requests(
                     stream,
                     [&statuses](std::string_view method, std::string_view target, const std::string& body) {
                       auto r = checked_route(method, target, body);
                       statuses.push_back(r.status);
                       return r;
                     }),
                 asio::detached);
  io.run();
  check_written(stream.written(), statuses);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // every policy change is logged
  the_fixture = new fixture();            // lives for the process: the engine's WAL thread runs meanwhile
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
