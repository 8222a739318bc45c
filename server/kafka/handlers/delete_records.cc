#include <memory>
#include <mutex>

#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/protocol/delete_records.h"

namespace server::kafka {

// DeleteRecords: each partition's log start moves once a record saying so is durable (the same
// group commit as produce); the answer waits for every partition of the request.
boost::asio::awaitable<void> handle_delete_records(request_context ctx) {
  auto req = protocol::delete_records_request::decode(ctx.body, ctx.header.api_version);
  auto& b = ctx.broker;
  struct state {
    std::mutex mu;
    protocol::delete_records_response resp;
    size_t left = 1;  // this coroutine's own hold
  };
  auto st = std::make_shared<state>();
  for (auto& t : req.topics) {
    auto& out = st->resp.topics.emplace_back();
    out.name = t.name;
    out.partitions.resize(t.partitions.size());
    for (size_t i = 0; i < t.partitions.size(); ++i)
      out.partitions[i].partition_index = t.partitions[i].partition_index;
  }
  st->left += [&] {
    size_t n = 0;
    for (auto& t : req.topics) n += t.partitions.size();
    return n;
  }();
  auto ex = ctx.executor;
  // The last completion (on the WAL sync thread, or inline on a refusal) posts the answer to the
  // connection's io thread.
  auto respond = [ctx, st]() mutable { ctx.respond(encode_response(ctx, st->resp)); };
  auto release = [st, ex, respond]() mutable {
    bool last = false;
    {
      std::lock_guard lock(st->mu);
      last = --st->left == 0;
    }
    if (last) boost::asio::post(ex, respond);
  };
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    auto& t = req.topics[ti];
    for (size_t pi = 0; pi < t.partitions.size(); ++pi) {
      const auto& p = t.partitions[pi];
      b.engine.delete_records(t.name, p.partition_index, p.offset,
                              [st, ti, pi, release](const engine::result<int64_t>& r) mutable {
                                {
                                  std::lock_guard lock(st->mu);
                                  auto& out = st->resp.topics[ti].partitions[pi];
                                  if (r) out.low_watermark = *r;
                                  else out.error = map_data_error(r.error());
                                }
                                release();
                              });
    }
  }
  release();
  co_return;
}

}  // namespace server::kafka
