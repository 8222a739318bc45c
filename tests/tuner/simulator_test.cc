// The simulator itself: deterministic, and faithful to the behaviours the tuner is built for
// (the cohort trap, lingering profiles, open-loop batching).
#include <catch2/catch.hpp>

#include "tests/tuner/sim_util.h"

using namespace std::chrono_literals;
using namespace tuner::sim;
using namespace tuner::sim::test;
using tuner::duration;

namespace {
double secs(tuner::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

TEST_CASE("the same seed gives the same run, another seed another", "[tuner][sim]") {
  auto s = closed(16, 100us, 1ms, 2s, 500ms);
  s.policy = auto_tuned();
  const auto a = run(s), b = run(s);
  CHECK(a.requests == b.requests);
  CHECK(a.groups == b.groups);
  CHECK(a.ack_p99_s == b.ack_p99_s);
  REQUIRE(a.trace.size() == b.trace.size());
  for (size_t i = 0; i < a.trace.size(); ++i) {
    CHECK(a.trace[i].min_batches == b.trace[i].min_batches);
    CHECK(a.trace[i].linger == b.trace[i].linger);
  }
  s.seed = 2;
  const auto c = run(s);
  CHECK((c.requests != a.requests || c.ack_p99_s != a.ack_p99_s));
}

TEST_CASE("cohort trap: self-clocking splits closed-loop producers into two cohorts when R < F", "[tuner][sim]") {
  // C = 64, R = 0.1 ms, F = 1 ms. Cutting whenever the disk is free: each producer's cycle is two
  // syncs (its ack, then the other cohort's sync while it waits), about C/(2F+R).
  const auto s = closed(64, 100us, 1ms, 3s, 1s);
  const auto self_clocking = run_with(s, low_latency());
  // Waiting for the whole cohort (64 batches, bounded by a short linger): one sync per cycle.
  const auto cohort = run_with(s, fixed_policy(64, 300us));
  const double trap = 64 / (2 * 1e-3 + 100e-6), ideal = 64 / (1e-3 + 100e-6);
  INFO("self-clocking " << self_clocking.requests_per_s << "/s, batches/sync " << self_clocking.batches_per_sync
                        << "; cohort " << cohort.requests_per_s << "/s, batches/sync " << cohort.batches_per_sync);
  CHECK(self_clocking.requests_per_s > 0.95 * trap);
  CHECK(self_clocking.requests_per_s < 1.1 * trap);
  CHECK(self_clocking.batches_per_sync == Approx(32).epsilon(0.05));  // two cohorts of C/2
  CHECK(cohort.requests_per_s > 0.95 * ideal);
  CHECK(cohort.batches_per_sync == Approx(64).epsilon(0.02));
  CHECK(cohort.requests_per_s > 1.7 * self_clocking.requests_per_s);
  CHECK(cohort.ack_p99_s < self_clocking.ack_p50_s);
}

TEST_CASE("no trap when the round trip is longer than a sync", "[tuner][sim]") {
  // R = 2 ms > F = 1 ms: producers come back spread over the round trip's jitter and wait at
  // most one sync for the log: a cycle of about R + 1.5 F, not the trap's 2 F + R.
  const auto s = closed(64, 2ms, 1ms, 3s, 1s);
  const auto r = run_with(s, low_latency());
  CHECK(r.requests_per_s > 0.95 * 64 / (2e-3 + 1.5e-3));
}

TEST_CASE("a lone producer sees one sync per request", "[tuner][sim]") {
  auto s = closed(1, 100us, 1ms, 3s, 1s);
  s.sync.jitter = 0;
  const auto r = run_with(s, low_latency());
  CHECK(r.batches_per_sync == 1.0);
  CHECK(r.ack_p50_s == Approx(1e-3 + 2e-6).epsilon(0.01));  // sync plus a small write
  CHECK(r.requests_per_s == Approx(1 / (1e-3 + 2e-6 + 100e-6)).epsilon(0.05));
}

TEST_CASE("a lingering profile waits out its linger with fewer producers than min_batches", "[tuner][sim]") {
  const auto r = run_with(closed(64, 100us, 1ms, 4s, 1s), high_throughput());
  CHECK(r.ack_p50_s == Approx(0.5).epsilon(0.01));
  CHECK(r.batches_per_sync == Approx(64).epsilon(0.01));
  CHECK(r.requests_per_s == Approx(128).epsilon(0.05));
}

TEST_CASE("open loop: throughput is the offered rate and group commit batches arrivals", "[tuner][sim]") {
  auto s = open_loop(5000, 1ms, 4s);
  const auto r = run_with(s, low_latency());
  CHECK(r.requests_per_s == Approx(5000).epsilon(0.05));
  CHECK(r.batches_per_sync > 2.5);  // about rate x (sync) per group once the disk is busy
  CHECK(r.ack_p99_s < 4e-3);
}

TEST_CASE("phases step the load and the disk", "[tuner][sim]") {
  auto s = closed(8, 100us, 1ms, 6s, 1s);
  s.phases.push_back({2s, 32u, std::nullopt, std::nullopt});
  s.phases.push_back({4s, std::nullopt, std::nullopt, sync_model{5ms, duration{0}, 0.2}});
  const auto r = run_with(s, fixed_policy(1, 0ms));
  const double before = throughput(r, 1s, 2s), more = throughput(r, 2500ms, 4s), slow = throughput(r, 4500ms, 6s);
  INFO(before << " " << more << " " << slow);
  CHECK(more > 3 * before);
  CHECK(slow < more / 3);
}

TEST_CASE("step down: surplus producers stop after their ack", "[tuner][sim]") {
  auto s = closed(64, 2ms, 1ms, 4s, 1s);
  s.phases.push_back({2s, 8u, std::nullopt, std::nullopt});
  const auto r = run_with(s, low_latency());
  CHECK(throughput(r, 3s, 4s) == Approx(throughput(r, 1s, 2s) / 8).epsilon(0.1));
}

TEST_CASE("a group takes at most caps.max_records batches", "[tuner][sim]") {
  auto s = closed(64, 100us, 1ms, 2s, 500ms);
  auto p = fixed_policy(1, 0ms);
  p.caps.max_records = 16;
  const auto r = run_with(s, p);
  CHECK(r.batches_per_sync <= 16);
  CHECK(r.batches_per_sync > 15);
}

TEST_CASE("sync time grows with the bytes in the group", "[tuner][sim]") {
  auto s = closed(1, 100us, 1ms, 2s, 500ms);
  s.sync = {1ms, 2ms, 0.0};             // + 2 ms per MiB
  s.offered.message_bytes = 512 << 10;  // half a MiB per batch: sync 2 ms
  s.write = {duration{0}, duration{0}};
  const auto r = run_with(s, low_latency());
  CHECK(r.ack_p50_s == Approx(2e-3).epsilon(0.01));
}

TEST_CASE("auto's trace has one decision per 100 ms and the timeline covers the run", "[tuner][sim]") {
  const auto r = run_with(closed(8, 100us, 1ms, 2s, 500ms), auto_tuned());
  CHECK(r.trace.size() == 20);
  CHECK(secs(r.trace.front().at) == Approx(0.1));
  CHECK(r.timeline.size() == 20);
  CHECK(r.policy == "auto");
}

TEST_CASE("parse_policy reads profiles and MIN/LINGER", "[tuner][sim]") {
  CHECK(parse_policy("balanced")->fixed.min_batches == 10);
  CHECK(parse_policy("auto")->auto_tuned);
  const auto p = parse_policy("64/0.3ms");
  REQUIRE(p);
  CHECK(p->fixed.min_batches == 64);
  CHECK(p->fixed.linger == 300us);
  CHECK(parse_policy("8/250us")->fixed.linger == 250us);
  CHECK_FALSE(parse_policy("fast"));
  CHECK_FALSE(parse_policy("0/1ms"));
  CHECK_FALSE(parse_policy("4/1parsec"));
}

TEST_CASE("a scenario without load is refused", "[tuner][sim]") {
  scenario s;
  CHECK_THROWS_AS(run(s), std::invalid_argument);
}
