#include <atomic>
#include <optional>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio/post.hpp>

#include "engine/record_batch.h"
#include "server/kafka/answer_batch.h"
#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/protocol/produce.h"

// Produce, in the order of the spec: admit the request (acks, topics, memory), produce each
// topic's partitions, answer once every partition has its outcome. What the tuner and the
// metrics learn from a produce goes through one observer.
namespace server::kafka {
namespace {

// Everything a produce tells the tuner and the metrics, in one place.
class produce_observer {
 public:
  explicit produce_observer(broker_context& b) : b_(b) {}

  // The request arrived: a closed-loop client answers acks with new sends, so the gap since
  // this connection's last answer is its round trip.
  void request(const request_context& ctx, const protocol::produce_request& req, uint32_t batches) {
    b_.metrics.kafka.produce_requests.Increment();
    auto* feed = b_.feed;
    if (!feed) return;
    uint64_t log_bytes = 0;  // what the log will hold for these batches
    for (auto& t : req.topics)
      for (auto& p : t.partitions) log_bytes += engine::log_manager::log_bytes(p.records.size());
    tuner::request_sample s{ctx.received.time_since_epoch(), batches, log_bytes, {}};
    if (ctx.timing->last_answer) s.gap = ctx.received - *ctx.timing->last_answer;
    feed->add(s);
  }

  void durable(std::span<const std::byte> records) {
    auto& k = b_.metrics.kafka;
    if (auto split = engine::split_batches(records)) {
      k.produce_batches.Increment(static_cast<double>(split->size()));
      for (auto& bi : *split) k.produce_records.Increment(bi.header.record_count);
    }
    k.produce_bytes.Increment(static_cast<double>(records.size()));
  }

  void duplicate() { b_.metrics.kafka.produce_duplicates.Increment(); }

  void outcomes(const protocol::produce_response& resp) {
    for (auto& t : resp.topics)
      for (auto& p : t.partitions)
        if (p.error != protocol::error_code::none) b_.metrics.kafka.produce_errors.Increment();
  }

  // The answer left: the tuner learns the broker-side latency, and this connection's next
  // request will say how long its client took to come back.
  void answered(const request_context& ctx, uint32_t batches) {
    const auto now = std::chrono::steady_clock::now();
    b_.metrics.kafka.produce_ack_latency.Observe(std::chrono::duration<double>(now - ctx.received).count());
    ctx.timing->last_answer = now;
    if (auto* feed = b_.feed) feed->add(tuner::ack_sample{now.time_since_epoch(), batches, now - ctx.received});
  }

 private:
  broker_context& b_;
};

// One request in flight: the response being filled in and the count of outcomes still to come.
// The last one to arrive (on the thread committing the WAL group, or inline for refusals) answers.
struct produce_call {
  produce_call(request_context c, const protocol::produce_request& req)
      : ctx(std::move(c)), observe(ctx.broker), answer(req.acks != 0) {
    for (auto& t : req.topics) {
      auto& rt = resp.topics.emplace_back();
      rt.name = t.name;
      for (auto& p : t.partitions) rt.partitions.emplace_back().index = p.index;
      batches += static_cast<uint32_t>(t.partitions.size());
    }
  }

  request_context ctx;
  produce_observer observe;
  protocol::produce_response resp;
  const bool answer;            // acks=0 gets no answer
  uint32_t batches = 0;         // partitions in the request: one batch each, as clients send them
  uint64_t admitted_bytes = 0;  // held in the pipeline's memory budget until the answer
  std::atomic<size_t> left{0};
  std::vector<std::optional<engine::error>> refused;  // by topic: why it does not exist (admit)

  void fail_all(protocol::error_code e, const std::string& why) {
    for (auto& rt : resp.topics)
      for (auto& rp : rt.partitions) {
        rp.error = e;
        rp.error_message = why;
      }
  }

  // Runs once per partition outcome plus once for the handler's own hold; the last one answers.
  static void arrived(const std::shared_ptr<produce_call>& c) {
    if (c->left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    c->ctx.broker.pipeline.budget().release(c->admitted_bytes);
    c->observe.outcomes(c->resp);
    if (!c->answer) return;
    // In a group's completions this is held until the group's last completion, then leaves with the
    // other answers for the same io thread in one post.
    answer_batch::post(c->ctx.executor, [c] {
      c->ctx.respond(encode_response(c->ctx, c->resp));
      c->observe.answered(c->ctx, c->batches);
    });
  }
};

// acks, topics and memory: everything that must hold before a batch is queued. False when the
// request was answered here.
boost::asio::awaitable<bool> admit(const std::shared_ptr<produce_call>& c, const protocol::produce_request& req) {
  auto& b = c->ctx.broker;
  if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
    c->fail_all(protocol::error_code::invalid_required_acks, "acks must be 0, 1 or -1 (all)");
    c->ctx.respond(encode_response(c->ctx, c->resp));
    co_return false;
  }
  // Auto-creation (the engine decides whether it is on) writes the topic catalog, an fsync: do
  // it off the io thread, before any batch is queued, so that produce itself never blocks. A
  // topic it does not create is answered UNKNOWN_TOPIC_OR_PARTITION per partition.
  for (size_t ti = 0; ti < req.topics.size(); ++ti)
    if (!b.engine.find_topic(req.topics[ti].name)) {
      auto job = [&b, &t = req.topics[ti]] { return b.engine.ensure_topic(t.name); };
      if (auto r = co_await run_blocking(b, job); !r) {
        c->refused.resize(req.topics.size());  // only when a topic is missing: not on the hot path
        c->refused[ti] = r.error();
      }
    }
  // Past the memory budget the request waits here, and so does this connection's reader:
  // backpressure reaches the client through TCP instead of growing memory.
  c->admitted_bytes = c->ctx.frame->size();
  co_await acquire_memory(b, c->admitted_bytes);
  co_return true;
}

// One partition's batch to the engine; its outcome lands in the response.
void produce_partition(const std::shared_ptr<produce_call>& c, const std::string& topic, size_t ti, size_t pi,
                       const protocol::produce_request::partition& p) {
  auto& frame = c->ctx.frame;
  // The batches are rewritten in place (base offset): the request frame is theirs now.
  std::span<std::byte> records(frame->data() + p.records_offset, p.records.size());
  c->ctx.broker.engine.produce(topic, p.index, frame, records,
                               [c, ti, pi, records](const engine::result<engine::produce_result>& r) {
                                 auto& rp = c->resp.topics[ti].partitions[pi];
                                 if (r) {
                                   rp.base_offset = r->base_offset;
                                   rp.log_start_offset = r->log_start_offset;
                                   if (r->duplicate) c->observe.duplicate();
                                   else c->observe.durable(records);
                                 } else {
                                   rp.error = map_data_error(r.error());
                                   rp.error_message = r.error().message();
                                 }
                                 produce_call::arrived(c);
                               });
}

void produce_topic(const std::shared_ptr<produce_call>& c, size_t ti, const protocol::produce_request::topic& t) {
  if (ti < c->refused.size() && c->refused[ti]) {  // not created: an invalid name, or auto-creation off
    const auto& why = c->refused[ti];
    for (auto& rp : c->resp.topics[ti].partitions) {
      rp.error = map_data_error(*why);
      rp.error_message = why->message();
      produce_call::arrived(c);
    }
    return;
  }
  for (size_t pi = 0; pi < t.partitions.size(); ++pi) produce_partition(c, t.name, ti, pi, t.partitions[pi]);
}

}  // namespace

boost::asio::awaitable<void> handle_produce(request_context ctx) {
  auto req = protocol::produce_request::decode(ctx.body, ctx.header.api_version);
  auto c = std::make_shared<produce_call>(std::move(ctx), req);
  c->observe.request(c->ctx, req, c->batches);
  if (!co_await admit(c, req)) co_return;
  c->left.store(c->batches + 1, std::memory_order_relaxed);  // +1: this function's own hold
  auto& b = c->ctx.broker;
  // The batches' group is committed on this thread when the log has been idle (no hand-off to
  // the sync thread and back); otherwise the sync thread is woken once, after the last batch.
  // Only when this is the one produce the broker has not answered yet: while this thread syncs
  // it reads no request and writes no answer, so another produce's answer would wait a whole
  // sync, and a pipelined next request of this client would be read late and committed alone
  // in turn (docs/wal.md, "Committing on the io thread").
  // Checked in this order: the flag, an atomic load, and only then a syscall (FIONREAD).
  const bool alone = b.config.wal_commit_on_io_thread && b.produces_unanswered.load(std::memory_order_relaxed) == 1 &&
                     !c->ctx.more_input();
  auto scope = b.engine.commit_here();
  for (size_t ti = 0; ti < req.topics.size(); ++ti) produce_topic(c, ti, req.topics[ti]);
  if (!c->answer) c->ctx.no_response();
  produce_call::arrived(c);
  if (alone) scope.commit();  // no lock held here, as it requires
}

}  // namespace server::kafka
