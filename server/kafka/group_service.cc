#include "server/kafka/group_service.h"

#include <random>

#include "engine/wal_streams.h"
#include "server/kafka/logger.h"

namespace asio = boost::asio;

namespace server::kafka {
namespace {

// The random part of member ids, as Kafka's UUIDs: 128 bits in the 8-4-4-4-12 hex layout.
std::string random_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace

group_service::group_service(const engine::group_config& cfg)
    : work_(asio::make_work_guard(ctx_)), timer_(ctx_) {
  store_ = std::make_unique<engine::wal_group_store>(
      [this](std::function<void()> f) {
        asio::post(ctx_, [this, f = std::move(f)] {
          f();
          rearm();
        });
      },
      &group_service::now);
  coordinator_ = std::make_unique<engine::group_coordinator>(cfg, *store_, &random_uuid);
}

group_service::~group_service() { stop(); }

engine::coordinator_time group_service::now() {
  using namespace std::chrono;
  return {steady_clock::now(), duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
}

engine::internal_record_fn group_service::loader() {
  return [this](uint32_t stream, uint8_t type, std::span<const std::byte> payload) {
    if (stream == engine::group_stream) engine::wal_group_store::load(*coordinator_, type, payload);
  };
}

void group_service::start(engine::log_manager& engine) {
  store_->attach(engine);
  coordinator_->start(now(), [&engine](const std::string& topic) { return engine.find_topic(topic).has_value(); });
  thread_ = std::thread([this] { ctx_.run(); });
  asio::post(ctx_, [this] { rearm(); });
}

void group_service::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!thread_.joinable()) return;
  asio::post(ctx_, [this] {
    stopping_ = true;
    coordinator_->abandon_parked();
    timer_.cancel();
    work_.reset();  // run() returns once the completions already queued have run
  });
  thread_.join();
}

void group_service::rearm() {
  if (stopping_) return;
  auto next = coordinator_->next_deadline();
  if (!next) return;
  // An earlier deadline than the one armed moves the timer; a later one is found when it fires.
  if (armed_ && *armed_ <= *next) return;
  armed_ = next;
  timer_.expires_at(*next);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    on_timer();
  });
}

void group_service::on_timer() {
  armed_.reset();
  coordinator_->expire(now());
  rearm();
}

}  // namespace server::kafka
