// memory_budget: FIFO grants as bytes are released, the oversized-request rule, capacity changes,
// grants on the releasing thread and outside the budget's lock, and many threads at once.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/memory_budget.h"

using engine::memory_budget;

namespace {

// Records the order in which grants ran, from any thread.
struct grant_log {
  std::mutex mu;
  std::vector<int> order;  // guarded by mu
  std::function<void()> note(int id) {
    return [this, id] {
      std::lock_guard lock(mu);
      order.push_back(id);
    };
  }
  std::vector<int> taken() {
    std::lock_guard lock(mu);
    return order;
  }
};

}  // namespace

TEST_CASE("a request that fits is granted at once, on the caller's thread", "[engine][memory_budget]") {
  memory_budget b(100);
  CHECK(b.capacity() == 100);
  CHECK(b.used() == 0);
  CHECK(b.peak() == 0);
  CHECK(b.waiting() == 0);

  bool granted = false;
  std::thread::id ran_on;
  b.acquire(60, [&] {
    granted = true;
    ran_on = std::this_thread::get_id();
  });
  CHECK(granted);  // before acquire returned
  CHECK(ran_on == std::this_thread::get_id());
  CHECK(b.used() == 60);

  // Exactly filling the budget still fits.
  granted = false;
  b.acquire(40, [&] { granted = true; });
  CHECK(granted);
  CHECK(b.used() == 100);
  CHECK(b.peak() == 100);
  CHECK(b.waiting() == 0);
}

TEST_CASE("a request that does not fit waits until enough is released", "[engine][memory_budget]") {
  memory_budget b(100);
  b.acquire(70, [] {});
  bool granted = false;
  b.acquire(50, [&] { granted = true; });
  CHECK_FALSE(granted);
  CHECK(b.waiting() == 1);
  CHECK(b.used() == 70);  // a waiter holds nothing

  b.release(10);  // 60 + 50 > 100: still waits
  CHECK_FALSE(granted);
  CHECK(b.waiting() == 1);
  CHECK(b.used() == 60);

  b.release(10);  // 50 + 50 fits
  CHECK(granted);
  CHECK(b.waiting() == 0);
  CHECK(b.used() == 100);
  CHECK(b.peak() == 100);
}

TEST_CASE("waiters are granted in arrival order and a newcomer never overtakes one", "[engine][memory_budget]") {
  memory_budget b(100);
  grant_log log;
  b.acquire(80, log.note(0));
  b.acquire(50, log.note(1));  // does not fit: waits
  b.acquire(10, log.note(2));  // would fit (90 <= 100), but waits behind 1
  b.acquire(45, log.note(3));
  CHECK(log.taken() == std::vector<int>{0});
  CHECK(b.waiting() == 3);
  CHECK(b.used() == 80);

  // 50 and 10 fit once the 80 is gone; 45 then does not (60 + 45 > 100) and blocks the queue.
  b.release(80);
  CHECK(log.taken() == std::vector<int>{0, 1, 2});
  CHECK(b.waiting() == 1);
  CHECK(b.used() == 60);

  // A small newcomer still queues behind the waiting 45, though 60 + 5 would fit.
  b.acquire(5, log.note(4));
  CHECK(log.taken() == std::vector<int>{0, 1, 2});
  CHECK(b.waiting() == 2);

  b.release(50);
  CHECK(log.taken() == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(b.waiting() == 0);
  CHECK(b.used() == 60);
  CHECK(b.peak() == 80);
}

TEST_CASE("a request larger than the whole budget is granted when nothing else is admitted",
          "[engine][memory_budget]") {
  memory_budget b(100);

  SECTION("at once, into an empty budget") {
    bool granted = false;
    b.acquire(250, [&] { granted = true; });
    CHECK(granted);
    CHECK(b.used() == 250);
    CHECK(b.peak() == 250);

    // While it is admitted, anything else waits, however small.
    bool small = false;
    b.acquire(1, [&] { small = true; });
    CHECK_FALSE(small);
    b.release(250);
    CHECK(small);
    CHECK(b.used() == 1);
  }

  SECTION("after everything admitted before it is released") {
    b.acquire(30, [] {});
    b.acquire(20, [] {});
    bool granted = false;
    b.acquire(250, [&] { granted = true; });
    CHECK_FALSE(granted);
    b.release(30);
    CHECK_FALSE(granted);  // 20 still admitted
    b.release(20);
    CHECK(granted);
    CHECK(b.used() == 250);
    CHECK(b.waiting() == 0);
  }
}

TEST_CASE("releasing more than is used leaves the budget empty, not wrapped around", "[engine][memory_budget]") {
  memory_budget b(100);
  b.acquire(40, [] {});
  b.release(1000);
  CHECK(b.used() == 0);
  bool granted = false;
  b.acquire(100, [&] { granted = true; });
  CHECK(granted);  // had used wrapped, nothing would fit any more
  CHECK(b.used() == 100);
}

TEST_CASE("peak is the most ever admitted at once and does not fall with releases", "[engine][memory_budget]") {
  memory_budget b(1000);
  b.acquire(300, [] {});
  b.acquire(200, [] {});
  CHECK(b.peak() == 500);
  b.release(500);
  CHECK(b.used() == 0);
  CHECK(b.peak() == 500);
  b.acquire(100, [] {});
  CHECK(b.peak() == 500);
  b.acquire(700, [] {});
  CHECK(b.peak() == 800);
}

TEST_CASE("set_capacity: a larger budget grants waiters at once, a smaller one applies to later grants",
          "[engine][memory_budget]") {
  memory_budget b(100);
  grant_log log;
  b.acquire(90, log.note(0));
  b.acquire(50, log.note(1));
  b.acquire(50, log.note(2));
  CHECK(b.waiting() == 2);

  SECTION("growing grants as many waiters as now fit, in order, on the thread that grows it") {
    b.set_capacity(150);  // 90 + 50 fits; 140 + 50 does not
    CHECK(b.capacity() == 150);
    CHECK(log.taken() == std::vector<int>{0, 1});
    CHECK(b.waiting() == 1);
    CHECK(b.used() == 140);

    std::thread::id grower_id, ran_on;
    b.acquire(0, [&] { ran_on = std::this_thread::get_id(); });  // queues behind waiter 2
    std::thread grower([&] {
      grower_id = std::this_thread::get_id();
      b.set_capacity(190);  // 140 + 50 fits exactly, and then the empty request
    });
    grower.join();
    CHECK(log.taken() == std::vector<int>{0, 1, 2});
    CHECK(ran_on == grower_id);
    CHECK(b.used() == 190);
    CHECK(b.waiting() == 0);
  }

  SECTION("shrinking takes nothing back from what is admitted") {
    b.set_capacity(40);
    CHECK(b.capacity() == 40);
    CHECK(b.used() == 90);
    CHECK(log.taken() == std::vector<int>{0});
    // Releasing the 90 empties the budget: the first waiter goes in as an oversized request
    // would (nothing else admitted), the second waits for it against the new capacity.
    b.release(90);
    CHECK(log.taken() == std::vector<int>{0, 1});
    CHECK(b.used() == 50);
    CHECK(b.waiting() == 1);
    b.release(50);
    CHECK(log.taken() == std::vector<int>{0, 1, 2});
    // A newcomer is held to the smaller capacity.
    bool granted = false;
    b.acquire(1, [&] { granted = true; });
    CHECK_FALSE(granted);  // 50 + 1 > 40
    b.release(50);
    CHECK(granted);
  }

  SECTION("an unchanged capacity grants nothing new") {
    b.set_capacity(100);
    CHECK(log.taken() == std::vector<int>{0});
    CHECK(b.waiting() == 2);
  }
}

TEST_CASE("a grant runs outside the budget's lock: it may call back into the budget", "[engine][memory_budget]") {
  memory_budget b(10);
  b.acquire(10, [] {});
  // Each grant reads the budget and gives its bytes straight back, which grants the next waiter
  // from inside the previous grant. Were grants run under the lock this would deadlock.
  std::vector<uint64_t> seen_used;
  for (int i = 0; i < 3; ++i)
    b.acquire(10, [&b, &seen_used] {
      seen_used.push_back(b.used());
      b.release(10);
    });
  CHECK(b.waiting() == 3);
  b.release(10);
  CHECK(seen_used == std::vector<uint64_t>{10, 10, 10});
  CHECK(b.waiting() == 0);
  CHECK(b.used() == 0);
}

TEST_CASE("threads waiting on the budget are woken one by one, in arrival order, by the releasing thread",
          "[engine][memory_budget]") {
  constexpr int n = 5;
  memory_budget b(100);
  b.acquire(100, [] {});

  struct grant {
    int id;
    std::thread::id ran_on;
  };
  std::mutex mu;
  std::vector<grant> grants;  // guarded by mu
  std::vector<std::thread::id> worker_ids(n);
  std::vector<std::thread> workers;
  std::atomic<int> released{0};
  for (int i = 0; i < n; ++i) {
    workers.emplace_back([&, i] {
      worker_ids[static_cast<size_t>(i)] = std::this_thread::get_id();
      // Arrive strictly after worker i-1 has queued, so that arrival order is i.
      while (b.waiting() != static_cast<size_t>(i)) std::this_thread::yield();
      std::promise<void> granted;
      b.acquire(100, [&, i] {
        {
          std::lock_guard lock(mu);
          grants.push_back({i, std::this_thread::get_id()});
        }
        granted.set_value();
      });
      granted.get_future().wait();
      ++released;
      b.release(100);  // grants worker i+1, from this thread
    });
  }
  while (b.waiting() != static_cast<size_t>(n)) std::this_thread::yield();
  CHECK(b.used() == 100);
  const auto main_id = std::this_thread::get_id();
  b.release(100);
  for (auto& w : workers) w.join();

  REQUIRE(grants.size() == static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    CHECK(grants[static_cast<size_t>(i)].id == i);
    // Worker 0 is granted by the main thread's release, every later one by its predecessor's.
    CHECK(grants[static_cast<size_t>(i)].ran_on == (i == 0 ? main_id : worker_ids[static_cast<size_t>(i - 1)]));
  }
  CHECK(released == n);
  CHECK(b.used() == 0);
  CHECK(b.waiting() == 0);
  CHECK(b.peak() == 100);
}

TEST_CASE("many threads acquiring and releasing never hold more than the budget together", "[engine][memory_budget]") {
  constexpr uint64_t capacity = 10;
  constexpr uint64_t each = 3;  // at most 3 holders at once: 4 * 3 > 10
  constexpr int threads = 4;
  constexpr int rounds = 2000;
  memory_budget b(capacity);
  std::atomic<uint64_t> holders{0};
  std::atomic<uint64_t> most_holders{0};
  std::atomic<uint64_t> over_budget{0};
  std::atomic<uint64_t> grants{0};

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int r = 0; r < rounds; ++r) {
        std::promise<void> granted;
        b.acquire(each, [&] {
          ++grants;
          granted.set_value();
        });
        granted.get_future().wait();
        const uint64_t now = ++holders;
        uint64_t seen = most_holders.load();
        while (now > seen && !most_holders.compare_exchange_weak(seen, now)) {
        }
        if (b.used() > capacity) ++over_budget;
        --holders;
        b.release(each);
      }
    });
  }
  for (auto& t : pool) t.join();

  CHECK(grants == static_cast<uint64_t>(threads) * rounds);
  CHECK(over_budget == 0);
  CHECK(most_holders <= capacity / each);
  CHECK(b.peak() <= capacity);
  CHECK(b.peak() >= each);
  CHECK(b.used() == 0);
  CHECK(b.waiting() == 0);
}
