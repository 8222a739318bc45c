#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/protocol/fetch.h"

namespace asio = boost::asio;

namespace server::kafka {
namespace {

// One attempt at answering: every requested partition read from its offset, never above the
// high watermark. Runs on the blocking pool (segment reads).
struct fetch_attempt {
  protocol::fetch_response resp;
  std::vector<std::vector<std::byte>> owned;  // the batches the response's views point into
  size_t bytes = 0;
  bool error = false;
};

fetch_attempt read_all(engine::log_manager& eng, const protocol::fetch_request& req) {
  fetch_attempt a;
  int64_t budget = req.max_bytes > 0 ? req.max_bytes : std::numeric_limits<int32_t>::max();
  const bool read_committed = req.isolation_level == 1;
  for (auto& t : req.topics) {
    auto& rt = a.resp.responses.emplace_back();
    rt.name = t.name;
    rt.topic_id = t.topic_id;
    for (auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition;
      if (t.name.empty() && t.topic_id != protocol::zero_uuid) {
        rp.error = protocol::error_code::unknown_topic_id;  // v13+: an id no topic has (any more)
        a.error = true;
        continue;
      }
      // Kafka returns at least one batch for the first partition with data, even past max_bytes,
      // so that a consumer can always make progress; the engine does the same per partition.
      const bool first_data = a.bytes == 0;
      if (budget <= 0 && !first_data) {
        auto st = eng.state_of(t.name, p.partition);
        if (st) {
          rp.high_watermark = st->high_watermark;
          rp.last_stable_offset = st->last_stable_offset;
          rp.log_start_offset = st->log_start_offset;
        } else {
          rp.error = map_data_error(st.error());
        }
        continue;
      }
      const auto limit = static_cast<size_t>(std::max<int64_t>(1, std::min<int64_t>(p.partition_max_bytes, budget)));
      auto r = eng.fetch(t.name, p.partition, p.fetch_offset, limit, read_committed);
      if (!r) {
        rp.error = map_data_error(r.error());
        a.error = true;
        continue;
      }
      rp.high_watermark = r->high_watermark;
      rp.last_stable_offset = r->last_stable_offset;
      rp.log_start_offset = r->log_start_offset;
      if (read_committed) {
        // The consumer skips these producers' batches in the ranges; control batches stay in.
        auto& list = rp.aborted_transactions.emplace();
        for (const auto& txn : r->aborted) list.push_back({txn.producer_id, txn.first_offset});
      }
      for (auto& batch : r->batches) {
        a.bytes += batch.size();
        budget -= static_cast<int64_t>(batch.size());
        a.owned.push_back(std::move(batch));
        rp.records.emplace_back(a.owned.back());
      }
    }
  }
  // The views stay valid as `owned` grows: moving a vector keeps its heap buffer in place.
  return a;
}

asio::awaitable<void> long_poll(request_context ctx, protocol::fetch_request req) {
  auto& b = ctx.broker;
  const auto deadline = ctx.received + std::chrono::milliseconds(std::max(0, req.max_wait_ms));
  auto timer = std::make_shared<asio::steady_timer>(ctx.executor);
  for (;;) {
    auto job = [&b, &req] { return read_all(b.engine, req); };
    auto attempt = co_await run_blocking(b, job);
    const bool enough = attempt.bytes >= static_cast<size_t>(std::max(0, req.min_bytes)) && attempt.bytes > 0;
    if (enough || attempt.error || std::chrono::steady_clock::now() >= deadline) {
      b.metrics.kafka.fetch_requests.Increment();
      b.metrics.kafka.fetch_bytes.Increment(static_cast<double>(attempt.bytes));
      ctx.respond(encode_response(ctx, attempt.resp));
      co_return;
    }
    b.metrics.kafka.fetch_long_poll_waits.Increment();
    // Park on every requested partition until one of them gains durable data, or the deadline.
    timer->expires_at(deadline);
    std::vector<engine::wait_handle> waits;
    bool moved = false;
    for (auto& t : req.topics)
      for (auto& p : t.partitions) {
        auto w = b.engine.wait_for_data(t.name, p.partition, p.fetch_offset,
                                        [timer, ex = ctx.executor] { asio::post(ex, [timer] { timer->cancel(); }); });
        if (w && *w) waits.push_back(*w);
        else if (w) moved = true;  // already past the offset: read again at once
      }
    if (!moved) {
      boost::system::error_code ec;
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    for (auto& w : waits) engine::log_manager::cancel_wait(w);
  }
}

}  // namespace

asio::awaitable<void> handle_fetch(request_context ctx) {
  auto req = protocol::fetch_request::decode(ctx.body, ctx.header.api_version);
  // v13+ name topics by id: resolve them once, here.
  for (auto& t : req.topics)
    if (t.name.empty() && t.topic_id != protocol::zero_uuid)
      if (auto info = ctx.broker.engine.find_topic(engine::topic_id(t.topic_id))) t.name = info->name;
  // The answer may wait up to max_wait_ms: let the connection read on meanwhile.
  auto ex = ctx.executor;
  asio::co_spawn(ex, long_poll(std::move(ctx), std::move(req)), asio::detached);
  co_return;
}

}  // namespace server::kafka
