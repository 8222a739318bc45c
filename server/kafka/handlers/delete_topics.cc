#include "server/kafka/api_table.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/error_mapping.h"
#include "server/protocol/delete_topics.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_delete_topics(request_context ctx) {
  auto req = protocol::delete_topics_request::decode(ctx.body, ctx.header.api_version);
  auto& b = ctx.broker;
  protocol::delete_topics_response resp;
  for (auto& t : req.topics) {
    auto& out = resp.responses.emplace_back();
    out.topic_id = t.topic_id;
    std::optional<std::string> name = t.name;
    if (!name) {
      for (auto& info : b.engine.list_topics())
        if (info.id == t.topic_id) name = info.name;
      if (!name) {
        out.error = protocol::error_code::unknown_topic_id;
        out.error_message = "no topic has that id";
        continue;
      }
    }
    out.name = *name;
    if (auto info = b.engine.find_topic(*name)) out.topic_id = info->id;
    auto job = [&b, &name] { return b.engine.delete_topic(*name); };
    auto r = co_await run_blocking(b, job);
    if (!r) {
      out.error = map_admin_error(r.error());
      out.error_message = r.error().message();
    } else if (b.coordinators) {
      // Its committed offsets go with it.
      b.coordinators->run(
          [topic = *name](engine::group_coordinator& c, const engine::coordinator_time&) { c.topic_deleted(topic); });
    }
  }
  ctx.respond(encode_response(ctx, resp));
}

}  // namespace server::kafka
