#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/protocol/list_offsets.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_list_offsets(request_context ctx) {
  auto req = protocol::list_offsets_request::decode(ctx.body, ctx.header.api_version);
  auto& eng = ctx.broker.engine;
  protocol::list_offsets_response resp;
  for (auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      // read_committed (isolation level 1, v2+): "latest" is the last stable offset.
      auto r = eng.list_offsets(t.name, p.partition_index, p.timestamp, req.isolation_level == 1);
      if (!r) {
        rp.error = map_data_error(r.error());
        continue;
      }
      rp.offset = r->offset;
      rp.timestamp = r->timestamp;
      rp.leader_epoch = 0;
      if (ctx.header.api_version == 0 && r->offset >= 0) rp.old_style_offsets = {r->offset};
    }
  }
  ctx.respond(encode_response(ctx, resp));
  co_return;
}

}  // namespace server::kafka
