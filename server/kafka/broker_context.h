#pragma once
// State every Kafka handler shares: the engine, the node's identity, and a small pool for work
// that blocks (catalog writes that fsync, segment reads), which never runs on an io thread.
#include <atomic>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine/broker.h"
#include "engine/produce_pipeline.h"
#include "server/config.h"
#include "server/kafka/coordinator_service.h"
#include "server/kafka/topic_configs.h"
#include "server/metrics.h"
#include "server/tuning.h"

namespace server::kafka {

// Memory held by request frames still arriving, across every connection: a frame's buffer grows
// with the bytes that actually came, and their sum is bounded, so a length prefix alone cannot
// make the broker allocate. Thread-safe.
class partial_frames {
 public:
  explicit partial_frames(uint64_t limit) : limit_(limit) {}
  bool try_acquire(uint64_t n) {
    uint64_t cur = held_.load(std::memory_order_relaxed);
    do {
      if (cur + n > limit_) return false;
    } while (!held_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
    uint64_t peak = peak_.load(std::memory_order_relaxed);
    while (cur + n > peak && !peak_.compare_exchange_weak(peak, cur + n, std::memory_order_relaxed)) {
    }
    return true;
  }
  void release(uint64_t n) { held_.fetch_sub(n, std::memory_order_relaxed); }
  uint64_t held() const { return held_.load(std::memory_order_relaxed); }
  uint64_t peak() const { return peak_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> held_{0};
  std::atomic<uint64_t> peak_{0};
};

struct broker_context {
  engine::log_manager& engine;
  const serve_config& config;
  boost::asio::thread_pool& blocking;
  engine::produce_pipeline& pipeline;
  metrics::registry& metrics;
  tuning_feed* feed = nullptr;                  // where produce timing goes for the tuner; null when not tuning
  coordinator_service* coordinators = nullptr;  // the group and transaction coordinators
  partial_frames* frames = nullptr;             // memory of request frames still arriving
  live_defaults* defaults = nullptr;            // broker defaults changeable live (AlterConfigs)
  int32_t node_id = 0;
  std::string cluster_id = "kairo";
  // Produce requests read and not yet answered on their socket (their answer written, or
  // dropped for acks=0, or their connection gone). The produce handler commits the log's group
  // on its io thread only when its own request is the one.
  std::atomic<int64_t> produces_unanswered{0};
};

// Runs job() on the blocking pool and resumes the awaiting coroutine on its own executor with
// the result. `job` is taken by reference and must be a named local of the caller: GCC 12
// mishandles temporaries with destructors inside co_await expressions (it destroyed a captured
// string twice here), so call sites keep the lambda out of the co_await full-expression.
template <class F>
auto run_blocking(broker_context& b, F& job) {
  using R = std::invoke_result_t<F&>;
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(R)>(
      [pool = &b.blocking, fp = &job](auto handler) {
        auto ex = boost::asio::get_associated_executor(handler);
        boost::asio::post(*pool, [handler = std::move(handler), fp, ex]() mutable {
          boost::asio::post(
              ex, [handler = std::move(handler), r = (*fp)()]() mutable { std::move(handler)(std::move(r)); });
        });
      },
      boost::asio::use_awaitable);
}

// Waits (without blocking the io thread) until `bytes` of produce memory are granted.
inline auto acquire_memory(broker_context& b, uint64_t bytes) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void()>(
      [budget = &b.pipeline.budget(), bytes](auto handler) {
        auto ex = boost::asio::get_associated_executor(handler);
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        budget->acquire(bytes, [h, ex] { boost::asio::post(ex, [h] { std::move (*h)(); }); });
      },
      boost::asio::use_awaitable);
}

}  // namespace server::kafka
