#pragma once
// Answers that leave the WAL's sync thread in batches. A group's completions answer many
// produce requests at once; posting each answer to its connection's io thread costs an
// allocation, a queue lock and a wake-up of that thread per request. On the sync thread,
// post() holds the work instead, and flush() (run after every group's completions, through
// log_manager::set_after_group) posts it with one post per io thread, in the order it came.
// Anywhere else post() is boost::asio::post.
#include <functional>

#include <boost/asio/any_io_executor.hpp>

namespace server::kafka::answer_batch {

void post(const boost::asio::any_io_executor& ex, std::function<void()> work);

// Posts what this thread holds, one post per executor; from then on post() holds on this
// thread. Call on the WAL's sync thread after a group's completions.
void flush();

}  // namespace server::kafka::answer_batch
