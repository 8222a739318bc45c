#pragma once
// Answers that leave a WAL group's completions in batches. A group's completions answer many
// produce requests at once; posting each answer to its connection's io thread costs an
// allocation, a queue lock and a wake-up of that thread per request. Between hold() and flush()
// (run around every group's completions on the thread committing the group, through
// log_manager::set_group_hooks), post() holds the work instead, and flush() posts it with one
// post per io thread, in the order it came. Anywhere else post() is boost::asio::post.
#include <functional>

#include <boost/asio/any_io_executor.hpp>

namespace server::kafka::answer_batch {

void post(const boost::asio::any_io_executor& ex, std::function<void()> work);

// From now on post() holds on this thread. Call before a group's completions.
void hold();
// Posts what this thread holds, one post per executor, and stops holding. Call after them.
void flush();

}  // namespace server::kafka::answer_batch
