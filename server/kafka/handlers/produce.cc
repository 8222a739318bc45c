#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <atomic>

#include <boost/asio/post.hpp>

#include "engine/record_batch.h"
#include "wal/format.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/protocol/produce.h"

namespace server::kafka {
namespace {

// Collects the per-partition outcomes; the last one to arrive (on the WAL sync thread, or inline
// for refusals) posts the answer back to the connection's thread.
struct produce_state {
  explicit produce_state(request_context c) : ctx(std::move(c)) {}
  request_context ctx;
  protocol::produce_response resp;
  std::atomic<size_t> left{0};
  bool answer = true;

  uint64_t admitted_bytes = 0;  // held in the pipeline's memory budget until the answer

  uint32_t batches = 0;  // partitions in the request: one batch each, as clients send them

  // The answer left: the tuner learns the broker-side latency, and this connection's next
  // request will say how long its client took to come back.
  void answered(std::chrono::steady_clock::time_point now) {
    ctx.timing->last_answer = now;
    if (auto* feed = ctx.broker.feed) feed->add(tuner::ack_sample{now.time_since_epoch(), batches, now - ctx.received});
  }

  void count_durable(std::span<const std::byte> records) {
    auto& k = ctx.broker.metrics.kafka;
    if (auto split = engine::split_batches(records)) {
      k.produce_batches.Increment(static_cast<double>(split->size()));
      for (auto& bi : *split) k.produce_records.Increment(bi.header.record_count);
    }
    k.produce_bytes.Increment(static_cast<double>(records.size()));
  }

  // Runs once per partition outcome plus once for the handler's own hold; the last one answers.
  static void arrived(const std::shared_ptr<produce_state>& st) {
    if (st->left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    auto& b = st->ctx.broker;
    b.pipeline.budget().release(st->admitted_bytes);
    auto& k = b.metrics.kafka;
    for (auto& t : st->resp.topics)
      for (auto& p : t.partitions)
        if (p.error != protocol::error_code::none) k.produce_errors.Increment();
    if (!st->answer) return;
    boost::asio::post(st->ctx.executor, [st] {
      st->ctx.respond(encode_response(st->ctx, st->resp));
      const auto now = std::chrono::steady_clock::now();
      st->ctx.broker.metrics.kafka.produce_ack_latency.Observe(std::chrono::duration<double>(now - st->ctx.received).count());
      st->answered(now);
    });
  }
};

}  // namespace

boost::asio::awaitable<void> handle_produce(request_context ctx) {
  auto req = protocol::produce_request::decode(ctx.body, ctx.header.api_version);
  auto& b = ctx.broker;
  b.metrics.kafka.produce_requests.Increment();
  auto st = std::make_shared<produce_state>(std::move(ctx));
  st->answer = req.acks != 0;

  size_t partitions = 0;
  for (auto& t : req.topics) {
    auto& rt = st->resp.topics.emplace_back();
    rt.name = t.name;
    for (auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.index = p.index;
      ++partitions;
    }
  }

  st->batches = static_cast<uint32_t>(partitions);
  if (auto* feed = b.feed) {
    // A closed-loop client answers acks with new sends: the gap since its last answer is its round trip.
    auto& t = *st->ctx.timing;
    uint64_t framed = 0;  // what the log will hold: each batch plus its record header
    for (auto& topic : req.topics)
      for (auto& part : topic.partitions) framed += part.records.size() + wal::format::record_header_size;
    tuner::request_sample s{st->ctx.received.time_since_epoch(), st->batches, framed, {}};
    if (t.last_answer) s.gap = st->ctx.received - *t.last_answer;
    feed->add(s);
  }

  if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
    for (auto& rt : st->resp.topics)
      for (auto& rp : rt.partitions) {
        rp.error = protocol::error_code::invalid_required_acks;
        rp.error_message = "acks must be 0, 1 or -1 (all)";
      }
    st->ctx.respond(encode_response(st->ctx, st->resp));
    co_return;
  }

  // Auto-creation writes the topic catalog (an fsync): do it off the io thread, before any
  // batch is queued, so that produce itself never blocks.
  if (b.config.auto_create_topics)
    for (auto& t : req.topics)
      if (!b.engine.find_topic(t.name)) {
        auto job = [&b, &t] { return b.engine.ensure_topic(t.name); };
        (void)co_await run_blocking(b, job);
      }

  // Past the memory budget the request waits here, and so does this connection's reader:
  // backpressure reaches the client through TCP instead of growing memory.
  st->admitted_bytes = st->ctx.frame->size();
  co_await acquire_memory(b, st->admitted_bytes);

  st->left.store(partitions + 1, std::memory_order_relaxed);  // +1: this function's own hold
  auto& frame = st->ctx.frame;
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    auto& t = req.topics[ti];
    for (size_t pi = 0; pi < t.partitions.size(); ++pi) {
      auto& p = t.partitions[pi];
      // The batches are rewritten in place (base offset): the request frame is theirs now.
      std::span<std::byte> records(frame->data() + p.records_offset, p.records.size());
      b.engine.produce(t.name, p.index, frame, records,
                       [st, ti, pi, records](const engine::result<engine::produce_result>& r) {
                         produce_state* s = st.get();
                         auto& rp = s->resp.topics[ti].partitions[pi];
                         if (r && r->duplicate) {
                           rp.base_offset = r->base_offset;
                           rp.log_start_offset = r->log_start_offset;
                           s->ctx.broker.metrics.kafka.produce_duplicates.Increment();
                         } else if (r) {
                           rp.base_offset = r->base_offset;
                           rp.log_start_offset = r->log_start_offset;
                           s->count_durable(records);
                         } else {
                           rp.error = map_data_error(r.error());
                           rp.error_message = r.error().message();
                         }
                         produce_state::arrived(st);
                       });
    }
  }
  if (!st->answer) st->ctx.no_response();
  produce_state::arrived(st);
}

}  // namespace server::kafka
