// The admin API's routes (server/admin/routes.h), called as the HTTP session calls them: method,
// target and body in, status, content type and body out. Behind them a real engine on a
// temporary directory, a real produce pipeline, metrics registry and tuner, wired as
// server/app.cc wires them; every JSON answer is parsed and read back field by field.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/broker.h"
#include "engine/produce_pipeline.h"
#include "engine/produce_policy.h"
#include "server/admin/routes.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/tuning.h"
#include "tests/engine/test_util.h"
#include "tests/support/mem_file_system.h"
#include "wal/file_system.h"

using json = nlohmann::json;
using namespace std::chrono_literals;
using server::admin::response;

namespace {

constexpr uint64_t mib = 1024 * 1024;

// The admin API over one engine, as server/app.cc builds it (the Kafka listener aside).
struct admin_fixture {
  engine::test::temp_dir dir;
  std::unique_ptr<engine::log_manager> eng;
  server::metrics::registry metrics;
  server::serve_config config;
  std::unique_ptr<engine::produce_pipeline> pipeline;
  server::tuning_feed feed;
  std::unique_ptr<server::tuning_loop> tuning;
  std::atomic<bool> ready{false};
  int refreshes = 0;
  std::unique_ptr<server::admin::context> ctx;

  // `fs` empty: the real file system, in `dir`.
  explicit admin_fixture(std::shared_ptr<wal::file_system> fs = {}) {
    config.data_dir = fs ? "/data" : dir.path();
    engine::config ecfg;
    ecfg.data_dir = config.data_dir;
    auto opened = engine::log_manager::open(
        ecfg, fs ? std::move(fs) : std::shared_ptr<wal::file_system>(wal::make_posix_file_system()));
    REQUIRE(opened);
    eng = std::move(*opened);
    auto [prof, pol] = config.initial_policy();
    pipeline = std::make_unique<engine::produce_pipeline>(*eng, prof, pol);
    tuning = std::make_unique<server::tuning_loop>(*pipeline, feed, *metrics.prom);
    ctx.reset(new server::admin::context{metrics, *pipeline, *eng, ready, config, std::chrono::steady_clock::now(),
                                         [this] {
                                           ++refreshes;
                                           // A value only the refresh sets: a scrape that shows
                                           // it was refreshed first.
                                           metrics.pipeline.pending_batches.Set(42);
                                         },
                                         [this] { return tuning->status(); }});
  }

  response call(std::string_view method, std::string_view target, const std::string& body = "") {
    return server::admin::route(*ctx, method, target, body);
  }
  // A JSON answer with the given status, parsed.
  json call_json(std::string_view method, std::string_view target, int status, const std::string& body = "") {
    auto r = call(method, target, body);
    INFO(method << " " << target << " " << body << " -> " << r.status << " " << r.body);
    REQUIRE(r.status == status);
    REQUIRE(r.content_type == "application/json");
    REQUIRE(json::accept(r.body));
    return json::parse(r.body);
  }
};

// What the policy JSON must say for a static profile.
void check_policy(const json& j, engine::profile p) {
  INFO(j.dump());
  const auto want = engine::profile_policy(p);
  CHECK(j.at("profile") == std::string(engine::to_string(p)));
  CHECK(j.at("min_batches") == want.min_batches);
  CHECK(j.at("linger_ms").get<double>() == Approx(std::chrono::duration<double, std::milli>(want.linger).count()));
  CHECK(j.at("buffer_bytes") == want.buffer_bytes);
}

}  // namespace

TEST_CASE("healthz answers while the process runs; readyz only once the broker is ready", "[server][admin]") {
  admin_fixture f;

  auto h = f.call("GET", "/healthz");
  CHECK(h.status == 200);
  CHECK(h.content_type.rfind("text/plain", 0) == 0);
  CHECK(h.body == "ok\n");

  f.ready = false;
  auto not_ready = f.call("GET", "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.body.find("not ready") != std::string::npos);
  CHECK(f.call("GET", "/healthz").status == 200);  // starting up is not unhealthy

  f.ready = true;
  auto ready = f.call("GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready\n");

  // The query string is not part of the path.
  CHECK(f.call("GET", "/readyz?verbose=1").status == 200);
  CHECK(f.call("GET", "/healthz?x").body == "ok\n");
}

TEST_CASE("a failed log makes the broker unhealthy and not ready, saying why and what to do", "[server][admin]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  admin_fixture f(fs);
  f.ready = true;
  REQUIRE(f.eng->create_topic("t", 1));
  REQUIRE(engine::test::produce_sync(*f.eng, "t", 0, engine::test::make_batch({"acked"})).r);
  CHECK(f.call("GET", "/healthz").status == 200);

  fs->fail_nth_sync(1);
  CHECK_FALSE(engine::test::produce_sync(*f.eng, "t", 0, engine::test::make_batch({"lost"})).r);
  REQUIRE_FALSE(f.eng->storage().failure.empty());

  for (const char* path : {"/healthz", "/readyz"}) {
    INFO(path);
    auto r = f.call("GET", path);
    CHECK(r.status == 503);
    CHECK(r.body.find("storage failed: " + f.eng->storage().failure) != std::string::npos);
    CHECK(r.body.find("KAFKA_STORAGE_ERROR") != std::string::npos);
    CHECK(r.body.find("restart kairo") != std::string::npos);
  }
  const auto status = f.call_json("GET", "/v1/status", 200);
  CHECK(status.at("wal_failure") == f.eng->storage().failure);
}

TEST_CASE("GET /v1/produce/policy shows the active profile and its policy", "[server][admin]") {
  admin_fixture f;
  const auto j = f.call_json("GET", "/v1/produce/policy", 200);
  // serve_config's default: auto, which starts from low-latency's values.
  check_policy(j, engine::profile::auto_tuned);
  CHECK(j.at("min_batches") == 1);
  CHECK(j.at("linger_ms").get<double>() == Approx(10));
  CHECK(j.at("buffer_bytes") == 16 * mib);
  CHECK(j.at("changes") == 0);
  CHECK(j.at("reason").is_string());
  CHECK(j.at("simulated_sync_delay").at("enabled") == false);
  // The same with a query string.
  CHECK(f.call_json("GET", "/v1/produce/policy?pretty", 200) == j);
}

TEST_CASE("PUT /v1/produce/policy with a profile applies that profile's policy", "[server][admin]") {
  admin_fixture f;
  uint64_t changes = 0;
  for (auto p : {engine::profile::balanced, engine::profile::high_throughput, engine::profile::low_latency,
                 engine::profile::auto_tuned}) {
    const std::string name(engine::to_string(p));
    INFO(name);
    const auto put = f.call_json("PUT", "/v1/produce/policy", 200, json{{"profile", name}}.dump());
    check_policy(put, p);
    CHECK(put.at("changes") == ++changes);
    CHECK(put.at("reason") == "set through the admin API");
    // What GET shows and what the pipeline runs agree with the answer.
    CHECK(f.call_json("GET", "/v1/produce/policy", 200) == put);
    const auto st = f.pipeline->current();
    CHECK(st.active == p);
    CHECK(st.policy.min_batches == engine::profile_policy(p).min_batches);
    CHECK(st.policy.linger == engine::profile_policy(p).linger);
    CHECK(st.policy.buffer_bytes == engine::profile_policy(p).buffer_bytes);
    // The memory budget follows the policy.
    CHECK(f.pipeline->budget().capacity() == engine::produce_pipeline::budget_for(p, st.policy));
  }
  // POST is taken as PUT.
  check_policy(f.call_json("POST", "/v1/produce/policy", 200, R"({"profile":"balanced"})"), engine::profile::balanced);
}

TEST_CASE("PUT /v1/produce/policy with explicit knobs pins a custom policy", "[server][admin]") {
  admin_fixture f;

  SECTION("knobs alone change only what they name") {
    const auto j = f.call_json("PUT", "/v1/produce/policy", 200, R"({"min_batches":7,"linger_ms":2.5})");
    CHECK(j.at("profile") == "custom");
    CHECK(j.at("min_batches") == 7);
    CHECK(j.at("linger_ms").get<double>() == Approx(2.5));
    CHECK(j.at("buffer_bytes") == 16 * mib);  // kept from the policy in force
    CHECK(f.pipeline->current().active == engine::profile::custom);
    CHECK(f.pipeline->current().policy.linger == 2500us);

    const auto buf = f.call_json("PUT", "/v1/produce/policy", 200, R"({"buffer_bytes":65536})");
    CHECK(buf.at("min_batches") == 7);
    CHECK(buf.at("buffer_bytes") == 65536);
    CHECK(f.pipeline->budget().capacity() == 2 * 65536);
  }

  SECTION("knobs next to a profile override that profile's values") {
    const auto j = f.call_json("PUT", "/v1/produce/policy", 200, R"({"profile":"high-throughput","linger_ms":50})");
    CHECK(j.at("profile") == "custom");
    CHECK(j.at("min_batches") == 100);
    CHECK(j.at("linger_ms").get<double>() == Approx(50));
    CHECK(j.at("buffer_bytes") == 128 * mib);
  }

  SECTION("the bounds themselves are accepted") {
    auto lo = f.call_json("PUT", "/v1/produce/policy", 200, R"({"min_batches":1,"linger_ms":0,"buffer_bytes":1024})");
    CHECK(lo.at("min_batches") == 1);
    CHECK(lo.at("linger_ms").get<double>() == 0);
    CHECK(lo.at("buffer_bytes") == 1024);
    auto hi = f.call_json("PUT", "/v1/produce/policy", 200,
                          R"({"min_batches":1000000,"linger_ms":60000,"buffer_bytes":4294967296})");
    CHECK(hi.at("min_batches") == 1000000);
    CHECK(hi.at("linger_ms").get<double>() == Approx(60000));
    CHECK(hi.at("buffer_bytes") == 4294967296ull);
  }

  SECTION("choosing a profile again leaves custom") {
    f.call_json("PUT", "/v1/produce/policy", 200, R"({"min_batches":3})");
    check_policy(f.call_json("PUT", "/v1/produce/policy", 200, R"({"profile":"auto"})"), engine::profile::auto_tuned);
  }
}

TEST_CASE("a bad policy body is refused with 400, names the field, and changes nothing", "[server][admin]") {
  admin_fixture f;
  f.call_json("PUT", "/v1/produce/policy", 200, R"({"profile":"balanced"})");
  const auto before = f.call_json("GET", "/v1/produce/policy", 200);

  struct bad {
    const char* body;
    const char* field;
    const char* says;  // part of the message
  };
  const bad cases[] = {
      {"", "(body)", "not a JSON object"},
      {"not json", "(body)", "not a JSON object"},
      {R"({"profile":)", "(body)", "not a JSON object"},
      {"[1,2]", "(body)", "not a JSON object"},
      {R"("balanced")", "(body)", "not a JSON object"},
      {R"({"profile":"turbo"})", "profile", "low-latency, balanced, high-throughput or auto"},
      {R"({"profile":"custom"})", "profile", "low-latency, balanced, high-throughput or auto"},
      {R"({"profile":5})", "profile", "must be a string"},
      {R"({"min_batches":0})", "min_batches", "1 to 1000000"},
      {R"({"min_batches":1000001})", "min_batches", "1 to 1000000"},
      {R"({"min_batches":1.5})", "min_batches", "whole number"},
      {R"({"min_batches":"10"})", "min_batches", "whole number"},
      {R"({"linger_ms":-1})", "linger_ms", "0 to 60000"},
      {R"({"linger_ms":60001})", "linger_ms", "0 to 60000"},
      {R"({"linger_ms":"5"})", "linger_ms", "milliseconds"},
      {R"({"buffer_bytes":1023})", "buffer_bytes", "1024 to 4294967296"},
      {R"({"buffer_bytes":4294967297})", "buffer_bytes", "1024 to 4294967296"},
      {R"({"buffer_bytes":2048.5})", "buffer_bytes", "whole number"},
      {R"({"lingerms":5})", "lingerms", "unknown; use profile, min_batches, linger_ms, buffer_bytes"},
      // A valid knob next to an invalid one is not applied either.
      {R"({"min_batches":5,"linger_ms":-1})", "linger_ms", "0 to 60000"},
      {R"({"profile":"low-latency","buffer_bytes":1})", "buffer_bytes", "1024 to 4294967296"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    const auto j = f.call_json("PUT", "/v1/produce/policy", 400, c.body);
    CHECK(j.at("field") == c.field);
    const auto msg = j.at("error").get<std::string>();
    CHECK(msg.find(std::string("bad field '") + c.field + "'") != std::string::npos);
    CHECK(msg.find(c.says) != std::string::npos);
    CHECK(msg.find("nothing was changed") != std::string::npos);
    CHECK(f.call_json("GET", "/v1/produce/policy", 200) == before);
  }
  CHECK(f.pipeline->current().active == engine::profile::balanced);
}

TEST_CASE("unknown paths are 404 and wrong methods 405", "[server][admin]") {
  admin_fixture f;
  for (const char* path :
       {"/index", "/v1", "/v1/produce", "/v1/produce/policy/x", "/healthz/x", "/metrics2", "/V1/STATUS"}) {
    INFO(path);
    auto r = f.call("GET", path);
    CHECK(r.status == 404);
    CHECK(r.body.find("no such endpoint") != std::string::npos);
    CHECK(r.body.find("/v1/produce/policy") != std::string::npos);  // where to look instead
  }
  // The live page is the root, self-contained: no script or style comes from elsewhere.
  auto page = f.call("GET", "/");
  CHECK(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body.find("<canvas") != std::string::npos);
  CHECK(page.body.find("src=\"http") == std::string::npos);
  CHECK(page.body.find("href=\"http") == std::string::npos);
  CHECK(f.call("POST", "/").status == 405);
  auto policy = f.call("DELETE", "/v1/produce/policy");
  CHECK(policy.status == 405);
  CHECK(policy.body.find("use GET or PUT") != std::string::npos);
  CHECK(f.call("PATCH", "/v1/experiment/sync-delay", R"({"value":"hdd"})").status == 405);
  CHECK(f.call("PUT", "/metrics").status == 405);
  CHECK(f.call("POST", "/metrics").body.find("use GET") != std::string::npos);
  // A refused method changed nothing.
  CHECK(f.pipeline->current().changes == 0);
  CHECK(f.call_json("GET", "/v1/experiment/sync-delay", 200).at("enabled") == false);
}

TEST_CASE("GET /metrics refreshes the gauges, then serves Prometheus text", "[server][admin]") {
  admin_fixture f;
  auto r = f.call("GET", "/metrics");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(f.refreshes == 1);
  CHECK(r.body.find("# TYPE kairo_") != std::string::npos);
  CHECK(r.body.find("kairo_pipeline_pending_batches 42") != std::string::npos);
}

TEST_CASE("GET /v1/status reports the broker, its policy and its signals", "[server][admin]") {
  admin_fixture f;
  f.ready = true;
  f.call_json("PUT", "/v1/produce/policy", 200, R"({"profile":"high-throughput"})");
  const auto j = f.call_json("GET", "/v1/status", 200);
  CHECK(f.refreshes == 1);
  CHECK(j.at("version") == "0.1.0");
  CHECK(j.at("uptime_seconds").get<double>() >= 0);
  CHECK(j.at("ready") == true);
  CHECK(j.at("kafka_listener") == f.config.listen.to_string());
  CHECK(j.at("data_dir") == f.dir.path());
  CHECK(j.at("profile") == "high-throughput");
  CHECK(j.at("policy") == f.call_json("GET", "/v1/produce/policy", 200));
  CHECK(j.at("wal_failure") == "");
  const auto& s = j.at("signals");
  for (const char* k : {"pending_batches", "pending_bytes", "wal_groups", "wal_records", "produce_requests",
                        "connections_open", "memory_used_bytes", "resident_memory_bytes"}) {
    INFO(k);
    CHECK(s.at(k).is_number());
  }
  CHECK(s.at("pending_batches") == 42);  // refreshed before it was read
  CHECK(j.at("tuner").at("active") == false);

  f.ready = false;
  CHECK(f.call_json("GET", "/v1/status", 200).at("ready") == false);
}

TEST_CASE("the tuner's status is served while a tuner runs, and says whether it acts", "[server][admin]") {
  admin_fixture f;

  SECTION("under auto the tuner drives the policy") {
    const auto j = f.call_json("GET", "/v1/tuner", 200);
    CHECK(j.at("active") == true);
    CHECK(j.at("policy").at("min_batches") == 1);
    CHECK(j.at("policy").at("linger_ms").get<double>() == Approx(10));
    CHECK(j.at("policy").at("buffer_bytes") == 16 * mib);
    CHECK(j.at("changes").is_array());
    CHECK(j.at("recent_decisions").is_array());
  }

  SECTION("a pinned profile suspends it, and the status says how to resume") {
    f.call_json("PUT", "/v1/produce/policy", 200, R"({"profile":"balanced"})");
    const auto j = f.call_json("GET", "/v1/tuner", 200);
    CHECK(j.at("active") == false);
    CHECK(j.at("note").get<std::string>().find(R"({"profile":"auto"})") != std::string::npos);
    CHECK(j.at("policy").at("min_batches") == 10);
    CHECK(j.at("policy").at("linger_ms").get<double>() == Approx(100));
  }

  SECTION("without a tuner there is no such endpoint, and status leaves it out") {
    f.ctx->tuner_status = nullptr;
    CHECK(f.call("GET", "/v1/tuner").status == 404);
    CHECK_FALSE(f.call_json("GET", "/v1/status", 200).contains("tuner"));
  }
}

TEST_CASE("the simulated sync delay is shown and changed through its JSON", "[server][admin]") {
  admin_fixture f;
  auto off = f.call_json("GET", "/v1/experiment/sync-delay", 200);
  CHECK(off.at("enabled") == false);
  CHECK(off.at("mean_ms").get<double>() == 0);
  CHECK(off.at("note").get<std::string>().find("EXPERIMENT ONLY") != std::string::npos);

  auto hdd = f.call_json("PUT", "/v1/experiment/sync-delay", 200, R"({"value":"hdd"})");
  CHECK(hdd.at("enabled") == true);
  CHECK(hdd.at("mean_ms").get<double>() == Approx(5));
  CHECK(f.call_json("GET", "/v1/experiment/sync-delay", 200) == hdd);
  CHECK(f.call_json("GET", "/v1/produce/policy", 200).at("simulated_sync_delay") == hdd);

  auto two = f.call_json("POST", "/v1/experiment/sync-delay", 200, R"({"value":"2ms"})");
  CHECK(two.at("mean_ms").get<double>() == Approx(2));

  for (const char* body : {"", "{}", R"({"value":5})", R"({"value":"fast"})", R"({"value":"-1ms"})", "[]"}) {
    INFO(body);
    const auto j = f.call_json("PUT", "/v1/experiment/sync-delay", 400, body);
    CHECK(j.at("field").is_string());
    CHECK(j.at("error").get<std::string>().find("nothing was changed") != std::string::npos);
    CHECK(f.call_json("GET", "/v1/experiment/sync-delay", 200) == two);
  }

  CHECK(f.call_json("PUT", "/v1/experiment/sync-delay", 200, R"({"value":"native"})").at("enabled") == false);
  CHECK(f.pipeline->current().changes == 0);  // the delay is not the batching policy
}

TEST_CASE("the topics endpoints list, create, alter, grow and delete topics", "[server][admin]") {
  admin_fixture f;
  std::string deleted;
  f.ctx->topic_deleted = [&](const std::string& t) { deleted = t; };

  auto made = f.call("POST", "/v1/topics", R"({"name":"orders","partitions":2,"configs":{"retention.ms":"60000"}})");
  REQUIRE(made.status == 201);
  auto t = json::parse(made.body);
  CHECK(t["name"] == "orders");
  CHECK(t["partitions"].size() == 2);
  CHECK(t["configs"]["retention.ms"] == "60000");
  CHECK(t["id"].get<std::string>().size() == 32);
  CHECK(f.call("POST", "/v1/topics", R"({"name":"orders"})").status == 409);
  CHECK(f.call("POST", "/v1/topics", R"({"name":"bad name"})").status == 400);
  CHECK(f.call("POST", "/v1/topics", R"({"name":"x","configs":{"cleanup.policy":"compact"}})").status == 400);
  CHECK_FALSE(f.eng->find_topic("x"));

  REQUIRE(engine::test::produce_sync(*f.eng, "orders", 1, engine::test::make_batch({"a", "b", "c"})).r);
  auto listed = json::parse(f.call("GET", "/v1/topics").body);
  REQUIRE(listed["topics"].size() == 1);
  const auto& p1 = listed["topics"][0]["partitions"][1];
  CHECK(p1["high_watermark"] == 3);
  CHECK(p1["log_start_offset"] == 0);
  CHECK(p1["size_bytes"].get<uint64_t>() > 0);
  CHECK(listed["topics"][0]["size_bytes"] == p1["size_bytes"]);

  auto altered =
      f.call("PUT", "/v1/topics/orders/configs", R"({"set":{"retention.bytes":"1000"},"delete":["retention.ms"]})");
  REQUIRE(altered.status == 200);
  CHECK(json::parse(altered.body)["configs"] == json{{"retention.bytes", "1000"}});
  CHECK(f.call("PUT", "/v1/topics/orders/configs", R"({"set":{"retention.ms":"soon"}})").status == 400);
  CHECK(f.eng->find_topic("orders")->configs == engine::topic_configs{{"retention.bytes", "1000"}});

  CHECK(f.call("POST", "/v1/topics/orders/partitions", R"({"count":4})").status == 200);
  CHECK(f.eng->find_topic("orders")->partitions == 4);
  CHECK(f.call("POST", "/v1/topics/orders/partitions", R"({"count":3})").status == 400);
  CHECK(json::parse(f.call("GET", "/v1/topics/orders").body)["partitions"].size() == 4);
  CHECK(f.call("GET", "/v1/topics/nope").status == 404);

  CHECK(f.call("DELETE", "/v1/topics/orders").status == 200);
  CHECK(deleted == "orders");
  CHECK(f.call("DELETE", "/v1/topics/orders").status == 404);
  CHECK(json::parse(f.call("GET", "/v1/topics").body)["topics"].empty());
}
