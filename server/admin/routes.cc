#include "server/admin/routes.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "engine/errc.h"
#include "server/admin/live_page.h"
#include "server/kafka/topic_configs.h"

namespace server::admin {
namespace {

using json = nlohmann::json;

response text(int status, std::string body) { return {status, "text/plain; charset=utf-8", std::move(body) + "\n"}; }
response as_json(int status, const json& j) { return {status, "application/json", j.dump(2) + "\n"}; }
response bad_request(const std::string& field, const std::string& why) {
  return as_json(400, {{"error", "bad field '" + field + "': " + why + "; nothing was changed"}, {"field", field}});
}

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

json delay_json(const engine::simulated_sync_delay& d) {
  return {{"enabled", d.enabled()},
          {"mean_ms", seconds(d.mean) * 1e3},
          {"jitter", d.jitter},
          {"note", "EXPERIMENT ONLY: added after every real fdatasync"}};
}

response put_policy(context& ctx, const std::string& body) {
  json req = json::parse(body, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return bad_request("(body)", "not a JSON object");
  static const char* known[] = {"profile", "min_batches", "linger_ms", "buffer_bytes"};
  for (auto& [k, v] : req.items()) {
    bool ok = false;
    for (auto* n : known) ok |= k == n;
    if (!ok) return bad_request(k, "unknown; use profile, min_batches, linger_ms, buffer_bytes");
  }
  auto cur = ctx.pipeline.current();
  engine::profile prof = cur.active;
  engine::produce_policy pol = cur.policy;
  if (req.contains("profile")) {
    if (!req["profile"].is_string()) return bad_request("profile", "must be a string");
    auto p = engine::parse_profile(req["profile"].get<std::string>());
    if (!p || *p == engine::profile::custom)
      return bad_request("profile", "must be low-latency, balanced, high-throughput or auto");
    prof = *p;
    pol = engine::profile_policy(prof);
  }
  bool overridden = false;
  if (req.contains("min_batches")) {
    auto& v = req["min_batches"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 1'000'000)
      return bad_request("min_batches", "must be a whole number from 1 to 1000000");
    pol.min_batches = v.get<uint32_t>();
    overridden = true;
  }
  if (req.contains("linger_ms")) {
    auto& v = req["linger_ms"];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 || v.get<double>() > 60'000)
      return bad_request("linger_ms", "must be a number of milliseconds from 0 to 60000");
    pol.linger = std::chrono::nanoseconds(static_cast<int64_t>(v.get<double>() * 1e6));
    overridden = true;
  }
  if (req.contains("buffer_bytes")) {
    auto& v = req["buffer_bytes"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1024 || v.get<int64_t>() > (int64_t{4} << 30))
      return bad_request("buffer_bytes", "must be a whole number of bytes from 1024 to 4294967296");
    pol.buffer_bytes = v.get<uint64_t>();
    overridden = true;
  }
  // An explicit knob pins the policy: the tuner steps back until the profile is set to auto again.
  if (overridden) prof = engine::profile::custom;
  ctx.pipeline.set_policy(prof, pol, "set through the admin API");
  return as_json(200, policy_json(ctx.pipeline.current(), ctx.engine.sync_delay()));
}

// EXPERIMENT ONLY: swaps the simulated sync delay at runtime, for phased experiments that change
// the storage class under load.
response put_sync_delay(context& ctx, const std::string& body) {
  json req = json::parse(body, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return bad_request("(body)", "not a JSON object");
  if (!req.contains("value") || !req["value"].is_string())
    return bad_request("value", "must be a string: native, cloud, hdd, or a duration like 2ms or 1ms±20%");
  try {
    ctx.engine.set_sync_delay(parse_sync_delay(req["value"].get<std::string>()));
  } catch (const std::invalid_argument& e) {
    return bad_request("value", e.what());
  }
  return as_json(200, delay_json(ctx.engine.sync_delay()));
}

std::string hex_id(const engine::topic_id& id) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : id) {
    const auto v = static_cast<unsigned>(b);
    out.push_back(digits[(v >> 4) & 0xf]);
    out.push_back(digits[v & 0xf]);
  }
  return out;
}

json topic_json(const engine::log_manager& eng, const engine::topic_info& t) {
  json parts = json::array();
  uint64_t bytes = 0;
  for (int32_t p = 0; p < t.partitions; ++p) {
    auto st = eng.state_of(t.name, p);
    if (!st) continue;
    bytes += st->size_bytes;
    parts.push_back({{"partition", p},
                     {"log_start_offset", st->log_start_offset},
                     {"high_watermark", st->high_watermark},
                     {"last_stable_offset", st->last_stable_offset},
                     {"size_bytes", st->size_bytes},
                     {"producers", st->producers},
                     {"open_transactions", st->open_transactions}});
  }
  json configs = json::object();
  for (const auto& [k, v] : t.configs) configs[k] = v;
  return {{"name", t.name},
          {"id", hex_id(t.id)},
          {"partitions", std::move(parts)},
          {"size_bytes", bytes},
          {"configs", std::move(configs)}};
}

// The engine's refusal as a status: 404 no such topic, 409 it exists, 400 (naming `field`, as
// every 400 does) a bad name or partition count, 500 anything else (a failed log).
response engine_error(const util::error& e, const std::string& field) {
  const auto& c = e.code();
  if (c == engine::errc::invalid_topic || c == engine::errc::invalid_partitions) return bad_request(field, e.message());
  int status = 500;
  if (c == engine::errc::unknown_topic_or_partition) status = 404;
  else if (c == engine::errc::topic_already_exists) status = 409;
  return as_json(status, {{"error", e.message()}});
}

// A JSON whole number that fits a partition count, or nothing (a value past int32 is refused
// rather than wrapped around).
std::optional<int32_t> partition_count(const json& v) {
  if (!v.is_number_integer()) return std::nullopt;
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return std::nullopt;
    return static_cast<int32_t>(u);
  }
  const auto i = v.get<int64_t>();
  if (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max()) return std::nullopt;
  return static_cast<int32_t>(i);
}

std::optional<json> parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// Validated config changes, or the refusal: values must be strings kairo can apply.
std::optional<response> read_configs(const context& ctx, const json& obj, engine::topic_configs& out) {
  if (!obj.is_object()) return bad_request("configs", "must be an object of strings");
  for (auto& [k, v] : obj.items()) {
    if (!v.is_string()) return bad_request("configs." + k, "must be a string");
    if (auto why = kafka::check_topic_config(ctx.config, k, v.get<std::string>()))
      return bad_request("configs." + k, *why);
    out[k] = v.get<std::string>();
  }
  return std::nullopt;
}

response topics_route(context& ctx, std::string_view method, std::string_view rest, const std::string& body) {
  auto& eng = ctx.engine;
  if (rest.empty()) {
    if (method == "GET") {
      json all = json::array();
      for (const auto& t : eng.list_topics()) all.push_back(topic_json(eng, t));
      return as_json(200, {{"topics", std::move(all)}});
    }
    if (method != "POST") return text(405, "use GET or POST");
    auto req = parse_object(body);
    if (!req) return bad_request("(body)", "not a JSON object");
    if (!req->contains("name") || !(*req)["name"].is_string()) return bad_request("name", "must be a string");
    int32_t partitions = ctx.config.default_partitions;
    if (req->contains("partitions")) {
      auto n = partition_count((*req)["partitions"]);
      if (!n) return bad_request("partitions", "must be a whole number");
      partitions = *n;
    }
    engine::topic_configs configs;
    if (req->contains("configs"))
      if (auto refused = read_configs(ctx, (*req)["configs"], configs)) return *refused;
    auto made = eng.create_topic((*req)["name"].get<std::string>(), partitions, configs);
    if (!made)
      return engine_error(made.error(),
                          made.error().code() == engine::errc::invalid_partitions ? "partitions" : "name");
    return as_json(201, topic_json(eng, *made));
  }
  const auto slash = rest.find('/');
  const std::string name(rest.substr(0, slash));
  const std::string_view sub = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (sub.empty()) {
    if (method == "GET") {
      auto t = eng.find_topic(name);
      if (!t) return as_json(404, {{"error", "topic '" + name + "' does not exist"}});
      return as_json(200, topic_json(eng, *t));
    }
    if (method != "DELETE") return text(405, "use GET or DELETE");
    if (auto r = eng.delete_topic(name); !r) return engine_error(r.error(), "name");
    if (ctx.topic_deleted) ctx.topic_deleted(name);
    return as_json(200, {{"deleted", name}});
  }
  if (sub == "configs") {
    if (method != "PUT" && method != "POST") return text(405, "use PUT");
    auto req = parse_object(body);
    if (!req) return bad_request("(body)", "not a JSON object");
    auto t = eng.find_topic(name);
    if (!t) return as_json(404, {{"error", "topic '" + name + "' does not exist"}});
    engine::topic_configs next = t->configs;
    engine::topic_configs set;
    if (req->contains("set"))
      if (auto refused = read_configs(ctx, (*req)["set"], set)) return *refused;
    for (auto& [k, v] : set) next[k] = v;
    if (req->contains("delete")) {
      auto& d = (*req)["delete"];
      if (!d.is_array()) return bad_request("delete", "must be an array of config names");
      for (auto& k : d) {
        if (!k.is_string()) return bad_request("delete", "must be an array of config names");
        next.erase(k.get<std::string>());
      }
    }
    auto r = eng.set_topic_configs(name, next);
    if (!r) return engine_error(r.error(), "configs");
    return as_json(200, topic_json(eng, *r));
  }
  if (sub == "partitions") {
    if (method != "POST" && method != "PUT") return text(405, "use POST");
    auto req = parse_object(body);
    const auto count = req && req->contains("count") ? partition_count((*req)["count"]) : std::nullopt;
    if (!count) return bad_request("count", "must be a whole number: the new partition count");
    auto r = eng.create_partitions(name, *count);
    if (!r) return engine_error(r.error(), "count");
    return as_json(200, topic_json(eng, *r));
  }
  return text(404, "no such endpoint under /v1/topics/" + name + "; try configs or partitions");
}

}  // namespace

json policy_json(const engine::produce_pipeline::state& s, const engine::simulated_sync_delay& delay) {
  json j = {{"profile", std::string(engine::to_string(s.active))},
            {"min_batches", s.policy.min_batches},
            {"linger_ms", seconds(s.policy.linger) * 1e3},
            {"buffer_bytes", s.policy.buffer_bytes},
            {"changes", s.changes},
            {"reason", s.last_reason},
            {"simulated_sync_delay", delay_json(delay)}};
  return j;
}

response route(context& ctx, std::string_view method, std::string_view target, const std::string& body) {
  auto path = target.substr(0, target.find('?'));
  if (path == "/" || path == "/index.html") {
    if (method != "GET" && method != "HEAD") return text(405, "use GET");
    return {200, "text/html; charset=utf-8", live_page_html};
  }
  if (path == "/healthz" || path == "/readyz") {
    // A failed log refuses every produce until a restart: not ready (take no producers) and
    // not healthy (someone has to act), with the cause and the remedy in the body.
    auto storage = ctx.engine.storage();
    if (!storage.failure.empty())
      return text(503, "storage failed: " + storage.failure + "\n" +
                           (storage.failed_group_cut
                                ? "the failed write was cut off the log: no record a producer was told failed will "
                                  "reappear after a restart.\n"
                                : "the failed write could not be cut off the log: records producers were told "
                                  "failed may reappear after a restart.\n") +
                           "produce answers KAFKA_STORAGE_ERROR; fetch still serves every acknowledged record.\n"
                           "fix the cause (free space, check the disk and dmesg), then restart kairo.");
    if (path == "/healthz") return text(200, "ok");
    return ctx.ready.load() ? text(200, "ready") : text(503, "not ready: recovering or not listening yet");
  }
  if (path == "/metrics") {
    if (method != "GET") return text(405, "use GET");
    if (ctx.refresh_gauges) ctx.refresh_gauges();
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics::serialize(*ctx.metrics.prom)};
  }
  if (path == "/v1/produce/policy") {
    if (method == "GET") return as_json(200, policy_json(ctx.pipeline.current(), ctx.engine.sync_delay()));
    if (method == "PUT" || method == "POST") return put_policy(ctx, body);
    return text(405, "use GET or PUT");
  }
  if (path == "/v1/status") {
    if (ctx.refresh_gauges) ctx.refresh_gauges();
    auto& m = ctx.metrics;
    json j;
    j["version"] = "0.1.0";
    j["uptime_seconds"] = seconds(std::chrono::steady_clock::now() - ctx.started);
    j["ready"] = ctx.ready.load();
    j["kafka_listener"] = ctx.config.listen.to_string();
    j["data_dir"] = ctx.config.data_dir;
    auto st = ctx.pipeline.current();
    j["profile"] = std::string(engine::to_string(st.active));
    j["policy"] = policy_json(st, ctx.engine.sync_delay());
    j["wal_failure"] = ctx.engine.storage().failure;
    j["signals"] = {{"pending_batches", m.pipeline.pending_batches.Value()},
                    {"pending_bytes", m.pipeline.pending_bytes.Value()},
                    {"wal_groups", m.wal.groups.Value()},
                    {"wal_records", m.wal.records.Value()},
                    {"produce_requests", m.kafka.produce_requests.Value()},
                    {"connections_open", m.kafka.connections_open.Value()},
                    {"memory_used_bytes", m.pipeline.memory_used_bytes.Value()},
                    {"resident_memory_bytes", m.process.resident_memory_bytes.Value()}};
    if (ctx.tuner_status) j["tuner"] = ctx.tuner_status();
    return as_json(200, j);
  }
  if (path == "/v1/experiment/sync-delay") {
    if (method == "GET") return as_json(200, delay_json(ctx.engine.sync_delay()));
    if (method == "PUT" || method == "POST") return put_sync_delay(ctx, body);
    return text(405, "use GET or PUT");
  }
  if (path == "/v1/tuner" && ctx.tuner_status) return as_json(200, ctx.tuner_status());
  if (path == "/v1/topics" || path.starts_with("/v1/topics/"))
    return topics_route(ctx, method, path.size() > 10 ? path.substr(11) : std::string_view(), body);
  if ((path == "/v1/groups" || path.starts_with("/v1/groups/")) && ctx.groups_status) {
    if (method != "GET") return text(405, "use GET");
    json all = ctx.groups_status();
    if (path.size() <= 11) return as_json(200, all);
    const std::string id(path.substr(11));
    for (auto& g : all["groups"])
      if (g["group_id"] == id) return as_json(200, g);
    return as_json(404, {{"error", "group '" + id + "' does not exist"}});
  }
  return text(404,
              "no such endpoint; try /metrics, /healthz, /readyz, /v1/status, /v1/produce/policy, /v1/tuner, "
              "/v1/topics, /v1/groups");
}

}  // namespace server::admin
