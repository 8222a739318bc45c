#include "server/kafka/api_table.h"
#include "server/protocol/api_versions.h"

namespace server::kafka {

boost::asio::awaitable<void> handle_api_versions(request_context ctx) {
  (void)protocol::api_versions_request::decode(ctx.body, ctx.header.api_version);
  protocol::api_versions_response resp;
  for (auto& e : api_table())
    resp.api_keys.push_back({static_cast<int16_t>(e.info.key), e.info.min_version, e.info.max_version});
  ctx.respond(encode_response(ctx, resp));
  co_return;
}

}  // namespace server::kafka
