#include <catch2/catch.hpp>

#include "wal/flush_policy.h"

using namespace wal;
using namespace std::chrono_literals;

TEST_CASE("should_cut names the first rule that holds", "[wal][flush_policy]") {
  flush_policy balanced{.min_batches = 10, .linger = 100ms, .buffer_bytes = 1000};
  CHECK_FALSE(should_cut({0, 0, 1s}, balanced).has_value());
  CHECK_FALSE(should_cut({9, 999, 99ms}, balanced).has_value());
  CHECK(should_cut({10, 0, 0ms}, balanced) == flush_reason::min_batches);
  CHECK(should_cut({1, 1000, 0ms}, balanced) == flush_reason::buffer);
  CHECK(should_cut({1, 10, 100ms}, balanced) == flush_reason::linger);
}

TEST_CASE("self-clocking group commit is min_batches 1 and linger 0", "[wal][flush_policy]") {
  flush_policy self_clocking{.min_batches = 1, .linger = 0ms};
  CHECK(should_cut({1, 1, 0ms}, self_clocking) == flush_reason::min_batches);
}
