#pragma once
// The group coordinator's home in the server: one thread with its own io_context owns the
// engine::group_coordinator (no locks on its state), drives its timers, and makes its state
// durable through the WAL (engine::wal_group_store). Handlers post work to it with run() and
// post their answers back to their connection's thread.
//
// Life cycle: construct; pass loader() to log_manager::open so the replayed group records reach
// the coordinator; start(engine) once the engine is open; stop() after the Kafka connections
// are drained.
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "engine/broker.h"
#include "engine/group_coordinator.h"
#include "engine/wal_group_store.h"

namespace server::kafka {

class group_service {
 public:
  explicit group_service(const engine::group_config& cfg);
  ~group_service();  // stop()s

  // For log_manager::open: hands the group stream's replayed records to the coordinator.
  engine::internal_record_fn loader();
  // Ends loading (groups resume, offsets of deleted topics go) and starts the thread.
  void start(engine::log_manager& engine);
  // Answers every parked JoinGroup/SyncGroup (the coordinator is going away) and joins the
  // thread. Idempotent.
  void stop();

  // Runs f(coordinator, now) on the coordinator's thread. Thread-safe.
  template <class F>
  void run(F f) {
    boost::asio::post(ctx_, [this, f = std::move(f)]() mutable {
      f(*coordinator_, now());
      rearm();
    });
  }
  // Runs f(coordinator) there and waits for its result (admin and metrics, never the data path).
  // REQUIRES: not on the coordinator's thread; before stop().
  template <class F>
  auto query(F f) -> decltype(f(std::declval<const engine::group_coordinator&>())) {
    using R = decltype(f(std::declval<const engine::group_coordinator&>()));
    std::promise<R> p;
    boost::asio::post(ctx_, [&] { p.set_value(f(*coordinator_)); });
    return p.get_future().get();
  }

  static engine::coordinator_time now();

 private:
  void rearm();  // REQUIRES: on the coordinator's thread
  void on_timer();

  boost::asio::io_context ctx_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer timer_;
  std::optional<std::chrono::steady_clock::time_point> armed_;  // when timer_ fires next
  std::unique_ptr<engine::wal_group_store> store_;
  std::unique_ptr<engine::group_coordinator> coordinator_;
  std::thread thread_;
  bool stopped_ = false;   // owner's thread
  bool stopping_ = false;  // coordinator's thread
};

}  // namespace server::kafka
