#pragma once
// How a group handler answers: the request goes to the coordinator's thread (coordinator_service::run)
// and the coordinator's reply comes back here, to the connection's thread, where the answer is
// encoded and queued. The connection reads on meanwhile, so a parked JoinGroup or SyncGroup holds
// up only the answers behind it, never the reading of later requests.
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/post.hpp>

#include "server/kafka/request_context.h"

namespace server::kafka {

// A callback that runs f(args...) on the connection's thread.
template <class F>
auto on_connection(const request_context& ctx, F f) {
  return [ex = ctx.executor, f = std::move(f)](auto... args) mutable {
    boost::asio::post(ex, [f, ... args = std::move(args)]() mutable { f(std::move(args)...); });
  };
}

inline std::vector<std::byte> copy_bytes(protocol::byte_view v) { return {v.begin(), v.end()}; }

}  // namespace server::kafka
