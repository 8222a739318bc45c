#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/protocol/describe_producers.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_describe_producers(request_context ctx) {
  auto req = protocol::describe_producers_request::decode(ctx.body, ctx.header.api_version);
  auto& eng = ctx.broker.engine;
  protocol::describe_producers_response resp;
  for (auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (int32_t p : t.partition_indexes) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p;
      auto producers = eng.producers(t.name, p);
      if (!producers) {
        rp.error = map_data_error(producers.error());
        rp.error_message = producers.error().message();
        continue;
      }
      for (const auto& v : *producers) {
        const auto& e = v.entry;
        rp.active_producers.push_back({v.producer_id, e.epoch, e.batches.empty() ? -1 : e.batches.back().last_seq,
                                       e.last_timestamp, e.coordinator_epoch, e.txn_first_offset.value_or(-1)});
      }
    }
  }
  ctx.respond(encode_response(ctx, resp));
  co_return;
}

}  // namespace server::kafka
