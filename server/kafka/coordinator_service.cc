#include "server/kafka/coordinator_service.h"

#include <future>
#include <mutex>
#include <random>

#include "engine/errc.h"
#include "engine/group_records.h"
#include "engine/txn_records.h"
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

coordinator_service::coordinator_service(const engine::group_config& groups, const engine::txn_config& txns)
    : work_(asio::make_work_guard(ctx_)), timer_(ctx_) {
  auto post = [this](std::function<void()> f) { this->post(std::move(f)); };
  store_ = std::make_unique<engine::wal_group_store>(post, &coordinator_service::now, gate_);
  groups_ = std::make_unique<engine::group_coordinator>(groups, *store_, &random_uuid);
  effects_ = std::make_unique<engine::wal_txn_effects>(*groups_, post, &coordinator_service::now, gate_);
  txns_ = std::make_unique<engine::txn_coordinator>(txns, *effects_);
}

void coordinator_service::post(std::function<void()> f) {
  asio::post(ctx_, [this, f = std::move(f)] {
    f();
    rearm();
  });
}

coordinator_service::~coordinator_service() { stop(); }

engine::coordinator_time coordinator_service::now() {
  using namespace std::chrono;
  return {steady_clock::now(), duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
}

engine::internal_record_fn coordinator_service::loader() {
  return [this](uint32_t stream, uint8_t type, std::span<const std::byte> payload) {
    if (stream == engine::group_stream) engine::wal_group_store::load(*groups_, type, payload);
    if (stream == engine::txn_stream) engine::wal_txn_effects::load(*txns_, type, payload);
  };
}

void coordinator_service::start(engine::log_manager& engine) {
  engine_ = &engine;
  store_->attach(engine);
  effects_->attach(engine);
  const auto t = now();
  groups_->start(t, [&engine](const std::string& topic) { return engine.find_topic(topic).has_value(); });
  txns_->start(t);
  thread_ = std::thread([this] { ctx_.run(); });
  asio::post(ctx_, [this] { rearm(); });
}

void coordinator_service::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!thread_.joinable()) return;
  asio::post(ctx_, [this] {
    stopping_ = true;
    groups_->abandon_parked();
    timer_.cancel();
    work_.reset();  // run() returns once the completions already queued have run
  });
  thread_.join();
}

engine::result<void> coordinator_service::restate(std::chrono::milliseconds timeout) {
  struct progress {
    std::mutex mu;
    size_t left = 0;
    std::error_code first;
    std::promise<std::error_code> done;
  };
  auto p = std::make_shared<progress>();
  auto outcome = p->done.get_future();
  asio::post(ctx_, [this, p] {
    gate_.restate([this, p] {
      std::vector<std::pair<uint32_t, std::pair<uint8_t, std::vector<std::byte>>>> records;
      for (const auto& r : groups_->restatement())
        records.emplace_back(engine::group_stream, engine::group_records::encode(r));
      for (const auto& r : txns_->restatement())
        records.emplace_back(engine::txn_stream, engine::txn_records::encode(r));
      if (records.empty()) return p->done.set_value({});
      p->left = records.size();
      // Straight to the WAL, not through the stores: the gate holds later writes back until
      // these are queued, so they come after every write before and before every write after.
      for (auto& [stream, rec] : records)
        engine_->append_internal(stream, rec.first, std::move(rec.second), [p](std::error_code ec) {
          std::lock_guard lock(p->mu);
          if (ec && !p->first) p->first = ec;
          if (--p->left == 0) p->done.set_value(p->first);
        });
      log().debug("restated the coordinators' state: {} record(s)", records.size());
    });
    rearm();
  });
  if (outcome.wait_for(timeout) != std::future_status::ready)
    return engine::fail(engine::errc::busy,
                        "restating the coordinators' state took over " + std::to_string(timeout.count()) + " ms");
  if (auto ec = outcome.get())
    return engine::fail(engine::errc::storage_error, "restating the coordinators' state failed: " + ec.message());
  return {};
}

void coordinator_service::rearm() {
  if (stopping_) return;
  auto next = groups_->next_deadline();
  if (auto t = txns_->next_deadline(); t && (!next || *t < *next)) next = t;
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

void coordinator_service::on_timer() {
  armed_.reset();
  const auto t = now();
  groups_->expire(t);
  txns_->expire(t);
  // Idle producer state (producer.id.expiration.ms) is swept at the transaction checks' pace;
  // lookups already ignore expired producers, this only frees their memory.
  if (engine_ && t.mono >= next_producer_expiry_) {
    engine_->expire_producers();
    next_producer_expiry_ = t.mono + std::chrono::minutes(1);
  }
  rearm();
}

}  // namespace server::kafka
