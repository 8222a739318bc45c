// The produce profiles: their names, the static table of BRIEF.md, and the memory budget each
// policy gets (produce_pipeline::budget_for).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "engine/produce_pipeline.h"
#include "engine/produce_policy.h"

using namespace std::chrono_literals;
using engine::profile;

namespace {

constexpr uint64_t mib = 1024 * 1024;

const profile all_profiles[] = {profile::low_latency, profile::balanced, profile::high_throughput, profile::auto_tuned,
                                profile::custom};

}  // namespace

TEST_CASE("every profile's name parses back to that profile", "[engine][produce_policy]") {
  for (auto p : all_profiles) {
    const std::string name(engine::to_string(p));
    INFO(name);
    const auto parsed = engine::parse_profile(name);
    REQUIRE(parsed);
    CHECK(*parsed == p);
  }
  // The names operators type (KAIRO_PRODUCE_PROFILE, the admin API), spelled as the brief does.
  CHECK(engine::to_string(profile::low_latency) == "low-latency");
  CHECK(engine::to_string(profile::balanced) == "balanced");
  CHECK(engine::to_string(profile::high_throughput) == "high-throughput");
  CHECK(engine::to_string(profile::auto_tuned) == "auto");
  CHECK(engine::to_string(profile::custom) == "custom");
}

TEST_CASE("names that are not a profile are refused, not guessed at", "[engine][produce_policy]") {
  for (const char* name : {"", "Balanced", "BALANCED", "low_latency", "lowlatency", "high_throughput", "auto_tuned",
                           "auto ", " auto", "fast", "balanced\n", "custom-1"}) {
    INFO("'" << name << "'");
    CHECK_FALSE(engine::parse_profile(name));
  }
  CHECK_FALSE(engine::parse_profile(std::string_view("auto\0", 5)));
}

TEST_CASE("the static profiles are the table of the brief", "[engine][produce_policy]") {
  SECTION("low-latency: 1 batch, 10 ms, 16 MiB") {
    const auto p = engine::profile_policy(profile::low_latency);
    CHECK(p.min_batches == 1);
    CHECK(p.linger == 10ms);
    CHECK(p.buffer_bytes == 16 * mib);
  }
  SECTION("balanced: 10 batches, 100 ms, 32 MiB") {
    const auto p = engine::profile_policy(profile::balanced);
    CHECK(p.min_batches == 10);
    CHECK(p.linger == 100ms);
    CHECK(p.buffer_bytes == 32 * mib);
  }
  SECTION("high-throughput: 100 batches, 500 ms, 128 MiB") {
    const auto p = engine::profile_policy(profile::high_throughput);
    CHECK(p.min_batches == 100);
    CHECK(p.linger == 500ms);
    CHECK(p.buffer_bytes == 128 * mib);
  }
  SECTION("auto starts from low-latency, which the tuner then moves") {
    const auto a = engine::profile_policy(profile::auto_tuned);
    const auto low = engine::profile_policy(profile::low_latency);
    CHECK(a.min_batches == low.min_batches);
    CHECK(a.linger == low.linger);
    CHECK(a.buffer_bytes == low.buffer_bytes);
  }
}

TEST_CASE("the memory budget is two buffers: one gathering while the previous one is synced",
          "[engine][produce_policy]") {
  using engine::produce_pipeline;
  SECTION("a static profile gets twice its buffer") {
    CHECK(produce_pipeline::budget_for(profile::low_latency, engine::profile_policy(profile::low_latency)) == 32 * mib);
    CHECK(produce_pipeline::budget_for(profile::balanced, engine::profile_policy(profile::balanced)) == 64 * mib);
    CHECK(produce_pipeline::budget_for(profile::high_throughput, engine::profile_policy(profile::high_throughput)) ==
          256 * mib);
  }
  SECTION("explicit knobs (custom) get twice the buffer they set, however small") {
    auto p = engine::profile_policy(profile::low_latency);
    p.buffer_bytes = 4096;
    CHECK(produce_pipeline::budget_for(profile::custom, p) == 8192);
    p.buffer_bytes = 1024 * mib;
    CHECK(produce_pipeline::budget_for(profile::custom, p) == 2048 * mib);
  }
  SECTION(
      "under auto a small buffer is a cut rule, not a memory bound: the budget stays at twice auto's cap of 16 MiB") {
    auto p = engine::profile_policy(profile::auto_tuned);
    CHECK(produce_pipeline::budget_for(profile::auto_tuned, p) == 32 * mib);
    p.buffer_bytes = 64 * 1024;  // one cohort's bytes, as the tuner sets it
    CHECK(produce_pipeline::budget_for(profile::auto_tuned, p) == 32 * mib);
    p.buffer_bytes = 1;
    CHECK(produce_pipeline::budget_for(profile::auto_tuned, p) == 32 * mib);
    // The same small buffer pinned by hand bounds memory itself.
    CHECK(produce_pipeline::budget_for(profile::custom, p) == 2);
  }
  SECTION("under auto a buffer above the cap still gets two of itself") {
    auto p = engine::profile_policy(profile::auto_tuned);
    p.buffer_bytes = 48 * mib;
    CHECK(produce_pipeline::budget_for(profile::auto_tuned, p) == 96 * mib);
  }
  SECTION("the linger and the batch count do not change the budget") {
    auto p = engine::profile_policy(profile::balanced);
    p.min_batches = 1;
    p.linger = 0ms;
    CHECK(produce_pipeline::budget_for(profile::custom, p) == 64 * mib);
  }
}
