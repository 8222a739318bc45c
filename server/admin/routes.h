#pragma once
// The metrics/admin HTTP API, as a pure function from request to response so it can be tested
// without sockets. Served by admin/http_server.h on --admin-listen.
//
//   GET /                      the live page (server/admin/live_page.html): charts and tables, polling the rest
//   GET /metrics               Prometheus text format
//   GET /healthz               200 while the process runs
//   GET /readyz                200 once the WAL is recovered and the Kafka listener is open
//   GET /v1/status             JSON: version, uptime, profile, policy, recent signals
//   GET /v1/produce/policy     JSON: the active profile and policy
//   PUT /v1/produce/policy     JSON body, e.g. {"profile":"balanced"} or {"min_batches":10,"linger_ms":5}
//   GET/PUT /v1/experiment/sync-delay   EXPERIMENT ONLY: {"value":"hdd"} changes the simulated sync delay
//   GET /v1/tuner              JSON: the tuner's signals, recent decisions and changes, each with its reason
//   GET /v1/topics             JSON: every topic, its partitions (log start, high watermark, last stable
//                              offset, bytes) and config overrides; GET /v1/topics/NAME: one
//   POST /v1/topics            {"name":"t","partitions":3,"configs":{"retention.ms":"3600000"}}
//   DELETE /v1/topics/NAME
//   PUT /v1/topics/NAME/configs      {"set":{"retention.ms":"60000"},"delete":["retention.bytes"]}
//   POST /v1/topics/NAME/partitions  {"count":6}
//   GET /v1/groups             JSON: every group, its state, members and lag per partition;
//                              GET /v1/groups/ID: one
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/broker.h"
#include "engine/produce_pipeline.h"
#include "server/config.h"
#include "server/metrics.h"

namespace server::admin {

struct context {
  metrics::registry& metrics;
  engine::produce_pipeline& pipeline;
  engine::log_manager& engine;
  const std::atomic<bool>& ready;
  const serve_config& config;
  std::chrono::steady_clock::time_point started;
  std::function<void()> refresh_gauges;          // mirrors live state into gauges before a scrape
  std::function<nlohmann::json()> tuner_status;  // empty until the tuner runs
  // {"groups":[{"group_id","state","protocol_type","members","lag","partitions":[...]}]}
  std::function<nlohmann::json()> groups_status;
  // A topic was deleted through the admin API: its committed offsets go too.
  std::function<void(const std::string&)> topic_deleted;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

response route(context& ctx, std::string_view method, std::string_view target, const std::string& body);

// The policy as the admin API shows it.
nlohmann::json policy_json(const engine::produce_pipeline::state& s, const engine::simulated_sync_delay& delay);

}  // namespace server::admin
