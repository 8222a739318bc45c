#pragma once
// The coordinators' home in the server: one thread with its own io_context owns the group
// coordinator and the transaction coordinator (no locks on their state; transactions settle
// group offsets synchronously on the same thread), drives their timers, and makes their state
// durable through the WAL (engine::wal_group_store, engine::wal_txn_effects). Handlers post work
// with run() / run_txn() and post their answers back to their connection's thread.
//
// Life cycle: construct; pass loader() to log_manager::open so the replayed group and
// transaction records reach the coordinators; start(engine) once the engine is open; stop()
// after the Kafka connections stopped reading.
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "engine/broker.h"
#include "engine/group_coordinator.h"
#include "engine/txn_coordinator.h"
#include "engine/wal_group_store.h"
#include "engine/wal_txn_effects.h"

namespace server::kafka {

class coordinator_service {
 public:
  coordinator_service(const engine::group_config& groups, const engine::txn_config& txns);
  ~coordinator_service();  // stop()s

  // For log_manager::open: hands the replayed group and transaction records to the coordinators.
  engine::internal_record_fn loader();
  // Ends loading (groups resume, offsets of deleted topics go, completing transactions resume)
  // and starts the thread.
  void start(engine::log_manager& engine);
  // Answers every parked JoinGroup/SyncGroup (the coordinator is going away) and joins the
  // thread. Idempotent.
  void stop();

  // Runs f(group coordinator, now) on the coordinators' thread. Thread-safe.
  template <class F>
  void run(F f) {
    boost::asio::post(ctx_, [this, f = std::move(f)]() mutable {
      f(*groups_, now());
      rearm();
    });
  }
  // Runs f(transaction coordinator, now) there. Thread-safe.
  template <class F>
  void run_txn(F f) {
    boost::asio::post(ctx_, [this, f = std::move(f)]() mutable {
      f(*txns_, now());
      rearm();
    });
  }
  // Runs f(group coordinator, transaction coordinator) there and waits for its result (admin and
  // metrics, never the data path). REQUIRES: not on the coordinators' thread; before stop().
  template <class F>
  auto query(F f)
      -> decltype(f(std::declval<const engine::group_coordinator&>(), std::declval<const engine::txn_coordinator&>())) {
    using R =
        decltype(f(std::declval<const engine::group_coordinator&>(), std::declval<const engine::txn_coordinator&>()));
    std::promise<R> p;
    boost::asio::post(ctx_, [&] { p.set_value(f(*groups_, *txns_)); });
    return p.get_future().get();
  }

  static engine::coordinator_time now();

  // Writes the coordinators' whole state to the WAL again (group and transaction streams), once
  // every write in flight has completed, and waits until that restatement is durable: every
  // internal record written before this call is then superseded (engine::log_manager::restate_fn).
  // storage_error when a record failed; busy after `timeout`. Thread-safe; not on
  // the coordinators' thread; after start().
  engine::result<void> restate(std::chrono::milliseconds timeout);

 private:
  void rearm();  // REQUIRES: on the coordinators' thread
  void on_timer();
  void post(std::function<void()> f);

  boost::asio::io_context ctx_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer timer_;
  std::optional<std::chrono::steady_clock::time_point> armed_;  // when timer_ fires next
  engine::internal_gate gate_;                                  // coordinators' thread
  std::unique_ptr<engine::wal_group_store> store_;
  std::unique_ptr<engine::group_coordinator> groups_;
  std::unique_ptr<engine::wal_txn_effects> effects_;
  std::unique_ptr<engine::txn_coordinator> txns_;
  engine::log_manager* engine_ = nullptr;
  std::chrono::steady_clock::time_point next_producer_expiry_{};
  std::thread thread_;
  bool stopped_ = false;   // owner's thread
  bool stopping_ = false;  // coordinators' thread
};

}  // namespace server::kafka
