#include "server/kafka/answer_batch.h"

#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

namespace server::kafka::answer_batch {
namespace {

struct held {
  boost::asio::any_io_executor ex;
  std::vector<std::function<void()>> work;
};

thread_local bool holding = false;     // between hold() and flush(): a group's completions are running
thread_local std::vector<held> held_;  // by executor: as many as there are io threads

}  // namespace

void post(const boost::asio::any_io_executor& ex, std::function<void()> work) {
  if (!holding) {
    boost::asio::post(ex, std::move(work));
    return;
  }
  for (auto& h : held_)
    if (h.ex == ex) {
      h.work.push_back(std::move(work));
      return;
    }
  held_.push_back(held{ex, {}});
  held_.back().work.push_back(std::move(work));
}

void hold() { holding = true; }

void flush() {
  holding = false;
  for (auto& h : held_)
    boost::asio::post(h.ex, [work = std::move(h.work)] {
      for (auto& w : work) w();
    });
  held_.clear();
}

}  // namespace server::kafka::answer_batch
