#include "server/admin_cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;

// A failure to print on stderr with exit code 1 (the server said no, or is not there).
struct refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct parsed_args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> options;
  bool json = false;
  bool help = false;
  std::string admin;

  std::optional<std::string> one(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> all(const std::string& name) const {
    std::vector<std::string> out;
    for (auto [a, b] = options.equal_range(name); a != b; ++a) out.push_back(a->second);
    return out;
  }
};

parsed_args parse(int argc, char** argv, const std::set<std::string>& value_options) {
  parsed_args a;
  if (const char* env = std::getenv("KAIRO_ADMIN"); env && *env) a.admin = env;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      a.json = true;
    } else if (arg == "--help" || arg == "-h") {
      a.help = true;
    } else if (arg.starts_with("--")) {
      std::string name = arg.substr(2);
      std::string value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else {
        if (i + 1 >= argc) throw std::invalid_argument("--" + name + " needs a value");
        value = argv[++i];
      }
      if (name == "admin") a.admin = value;
      else if (value_options.contains(name)) a.options.emplace(name, value);
      else throw std::invalid_argument("unknown option --" + name);
    } else {
      a.positional.push_back(arg);
    }
  }
  if (a.admin.empty()) a.admin = "127.0.0.1:9644";
  return a;
}

struct http_answer {
  int status = 0;
  json body;
};

// One request to the admin API; the answer's JSON (or its text, as a string).
http_answer call(const std::string& admin, http::verb method, const std::string& target, const json* body = nullptr) {
  const auto colon = admin.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("--admin must be HOST:PORT, not '" + admin + "'");
  const std::string host = admin.substr(0, colon);
  const std::string port = admin.substr(colon + 1);
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  boost::asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, port, ec);
  if (!ec) {
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(endpoints, ec);
  }
  if (ec)
    throw refused("cannot reach the admin API at " + admin + ": " + ec.message() +
                  " (is kairo serve running? --admin HOST:PORT or KAIRO_ADMIN names another)");
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "kairo-cli");
  if (body) {
    req.set(http::field::content_type, "application/json");
    req.body() = body->dump();
  }
  req.prepare_payload();
  http::write(stream, req, ec);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buf, res, ec);
  if (ec) throw refused("the admin API at " + admin + " did not answer " + target + ": " + ec.message());
  http_answer out;
  out.status = static_cast<int>(res.result_int());
  out.body = json::parse(res.body(), nullptr, false);
  if (out.body.is_discarded()) out.body = res.body();
  return out;
}

// The answer when it is a success; otherwise the server's words, as a refusal.
json expect_ok(const http_answer& a) {
  if (a.status >= 200 && a.status < 300) return a.body;
  std::string why = a.body.is_object() && a.body.contains("error") ? a.body["error"].get<std::string>()
                    : a.body.is_string()                           ? a.body.get<std::string>()
                                                                   : a.body.dump();
  while (!why.empty() && why.back() == '\n') why.pop_back();
  throw refused("the server refused (HTTP " + std::to_string(a.status) + "): " + why);
}

std::string cell(const json& v) {
  if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
  if (v.is_null()) return "-";
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v.get<double>());
    return buf;
  }
  return v.dump();
}

// Left-aligned columns, two spaces apart, a header row.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], r[c].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string& v = c < r.size() ? r[c] : std::string();
      out += v;
      if (c + 1 < header.size()) out += std::string(width[c] - v.size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::printf("%s\n", out.c_str());
  };
  line(header);
  for (const auto& r : rows) line(r);
}

void print_json(const json& j) { std::printf("%s\n", j.dump(2).c_str()); }

std::pair<std::string, std::string> key_value(const std::string& kv, const char* option) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::invalid_argument(std::string("--") + option + " takes KEY=VALUE, not '" + kv + "'");
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

int32_t whole(const std::string& v, const char* option) {
  try {
    size_t used = 0;
    const long x = std::stol(v, &used);
    if (used == v.size() && x >= 0 && x <= 1'000'000'000) return static_cast<int32_t>(x);
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(std::string("--") + option + " takes a whole number, not '" + v + "'");
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b < 1024) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  else if (b < (1u << 20)) std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  else if (b < (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / 1048576);
  else std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / 1073741824.0);
  return buf;
}

std::string configs_cell(const json& configs) {
  std::string out;
  for (auto& [k, v] : configs.items()) out += (out.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  return out.empty() ? "-" : out;
}

void print_topic(const json& t) {
  std::printf("topic %s  id %s  %zu partition(s)  %s  configs %s\n", t["name"].get<std::string>().c_str(),
              t["id"].get<std::string>().c_str(), t["partitions"].size(),
              human_bytes(t["size_bytes"].get<uint64_t>()).c_str(), configs_cell(t["configs"]).c_str());
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : t["partitions"])
    rows.push_back({cell(p["partition"]), cell(p["log_start_offset"]), cell(p["high_watermark"]),
                    cell(p["last_stable_offset"]), human_bytes(p["size_bytes"].get<uint64_t>()), cell(p["producers"]),
                    cell(p["open_transactions"])});
  print_table({"PARTITION", "LOG START", "HIGH WATERMARK", "LAST STABLE", "SIZE", "PRODUCERS", "OPEN TXNS"}, rows);
}

int wrap(const std::function<int()>& f) {
  try {
    return f();
  } catch (const refused& e) {
    std::fprintf(stderr, "kairo: %s\n", e.what());
    return 1;
  }
}

const char* topics_help =
    "usage: kairo topics list | describe NAME | create NAME [--partitions N] [--config K=V]...\n"
    "                    | delete NAME | alter NAME [--set K=V]... [--delete K]... [--partitions N]\n"
    "options: --admin HOST:PORT (default $KAIRO_ADMIN or 127.0.0.1:9644), --json\n";
const char* groups_help =
    "usage: kairo groups list | describe ID | lag [ID]\n"
    "options: --admin HOST:PORT (default $KAIRO_ADMIN or 127.0.0.1:9644), --json\n";
const char* policy_help =
    "usage: kairo policy show | pin PROFILE | pin --min-batches N [--linger-ms MS] | auto\n"
    "  PROFILE: low-latency, balanced, high-throughput; auto hands the policy back to the tuner\n"
    "options: --admin HOST:PORT (default $KAIRO_ADMIN or 127.0.0.1:9644), --json\n";
const char* tuner_help =
    "usage: kairo tuner decisions [--limit N] | changes [--limit N]\n"
    "  decisions: the tuner's recent decisions (newest first), each with its rule and reason\n"
    "  changes: the decisions that changed the policy\n"
    "options: --admin HOST:PORT (default $KAIRO_ADMIN or 127.0.0.1:9644), --json\n";

void need(const parsed_args& a, size_t n, const char* help) {
  if (a.positional.size() != n) throw std::invalid_argument(std::string("wrong arguments\n") + help);
}

}  // namespace

int run_topics_command(int argc, char** argv) {
  auto a = parse(argc, argv, {"partitions", "config", "set", "delete"});
  if (a.help || a.positional.empty()) {
    std::fputs(topics_help, a.help ? stdout : stderr);
    return a.help ? 0 : 2;
  }
  return wrap([&] {
    const std::string& what = a.positional[0];
    if (what == "list") {
      need(a, 1, topics_help);
      auto j = expect_ok(call(a.admin, http::verb::get, "/v1/topics"));
      if (a.json) return print_json(j), 0;
      std::vector<std::vector<std::string>> rows;
      for (const auto& t : j["topics"]) {
        int64_t records = 0;
        for (const auto& p : t["partitions"])
          records += p["high_watermark"].get<int64_t>() - p["log_start_offset"].get<int64_t>();
        rows.push_back({t["name"].get<std::string>(), std::to_string(t["partitions"].size()), std::to_string(records),
                        human_bytes(t["size_bytes"].get<uint64_t>()), configs_cell(t["configs"])});
      }
      print_table({"TOPIC", "PARTITIONS", "RECORDS", "SIZE", "CONFIGS"}, rows);
      return 0;
    }
    if (what == "describe") {
      need(a, 2, topics_help);
      auto j = expect_ok(call(a.admin, http::verb::get, "/v1/topics/" + a.positional[1]));
      if (a.json) return print_json(j), 0;
      print_topic(j);
      return 0;
    }
    if (what == "create") {
      need(a, 2, topics_help);
      json body = {{"name", a.positional[1]}};
      if (auto p = a.one("partitions")) body["partitions"] = whole(*p, "partitions");
      json configs = json::object();
      for (const auto& kv : a.all("config")) {
        auto [k, v] = key_value(kv, "config");
        configs[k] = v;
      }
      if (!configs.empty()) body["configs"] = configs;
      auto j = expect_ok(call(a.admin, http::verb::post, "/v1/topics", &body));
      if (a.json) return print_json(j), 0;
      std::printf("created topic %s with %zu partition(s)\n", a.positional[1].c_str(), j["partitions"].size());
      return 0;
    }
    if (what == "delete") {
      need(a, 2, topics_help);
      auto j = expect_ok(call(a.admin, http::verb::delete_, "/v1/topics/" + a.positional[1]));
      if (a.json) return print_json(j), 0;
      std::printf("deleted topic %s\n", a.positional[1].c_str());
      return 0;
    }
    if (what == "alter") {
      need(a, 2, topics_help);
      const std::string& name = a.positional[1];
      const auto sets = a.all("set");
      const auto deletes = a.all("delete");
      const auto partitions = a.one("partitions");
      if (sets.empty() && deletes.empty() && !partitions)
        throw std::invalid_argument("alter needs --set, --delete or --partitions");
      json j;
      if (!sets.empty() || !deletes.empty()) {
        json body = {{"set", json::object()}, {"delete", json::array()}};
        for (const auto& kv : sets) {
          auto [k, v] = key_value(kv, "set");
          body["set"][k] = v;
        }
        for (const auto& k : deletes) body["delete"].push_back(k);
        j = expect_ok(call(a.admin, http::verb::put, "/v1/topics/" + name + "/configs", &body));
      }
      if (partitions) {
        json body = {{"count", whole(*partitions, "partitions")}};
        j = expect_ok(call(a.admin, http::verb::post, "/v1/topics/" + name + "/partitions", &body));
      }
      if (a.json) return print_json(j), 0;
      print_topic(j);
      return 0;
    }
    throw std::invalid_argument("unknown topics command '" + what + "'\n" + topics_help);
  });
}

int run_groups_command(int argc, char** argv) {
  auto a = parse(argc, argv, {});
  if (a.help || a.positional.empty()) {
    std::fputs(groups_help, a.help ? stdout : stderr);
    return a.help ? 0 : 2;
  }
  return wrap([&] {
    const std::string& what = a.positional[0];
    if (what == "list") {
      need(a, 1, groups_help);
      auto j = expect_ok(call(a.admin, http::verb::get, "/v1/groups"));
      if (a.json) return print_json(j), 0;
      std::vector<std::vector<std::string>> rows;
      for (const auto& g : j["groups"])
        rows.push_back(
            {cell(g["group_id"]), cell(g["state"]), cell(g["protocol_type"]), cell(g["members"]), cell(g["lag"])});
      print_table({"GROUP", "STATE", "PROTOCOL TYPE", "MEMBERS", "LAG"}, rows);
      return 0;
    }
    if (what == "describe" || what == "lag") {
      if (what == "describe") need(a, 2, groups_help);
      else if (a.positional.size() > 2) need(a, 2, groups_help);
      json groups = json::array();
      if (a.positional.size() == 2)
        groups.push_back(expect_ok(call(a.admin, http::verb::get, "/v1/groups/" + a.positional[1])));
      else groups = expect_ok(call(a.admin, http::verb::get, "/v1/groups"))["groups"];
      if (a.json) return print_json(a.positional.size() == 2 ? groups[0] : json{{"groups", groups}}), 0;
      std::vector<std::vector<std::string>> rows;
      for (const auto& g : groups) {
        if (what == "describe")
          std::printf("group %s  state %s  protocol type %s  %s member(s)  lag %s\n", cell(g["group_id"]).c_str(),
                      cell(g["state"]).c_str(), cell(g["protocol_type"]).c_str(), cell(g["members"]).c_str(),
                      cell(g["lag"]).c_str());
        for (const auto& p : g["partitions"])
          rows.push_back({cell(g["group_id"]), cell(p["topic"]), cell(p["partition"]), cell(p["committed"]),
                          cell(p["high_watermark"]), cell(p["lag"])});
      }
      print_table({"GROUP", "TOPIC", "PARTITION", "COMMITTED", "HIGH WATERMARK", "LAG"}, rows);
      return 0;
    }
    throw std::invalid_argument("unknown groups command '" + what + "'\n" + groups_help);
  });
}

int run_policy_command(int argc, char** argv) {
  auto a = parse(argc, argv, {"min-batches", "linger-ms"});
  if (a.help || a.positional.empty()) {
    std::fputs(policy_help, a.help ? stdout : stderr);
    return a.help ? 0 : 2;
  }
  return wrap([&] {
    const std::string& what = a.positional[0];
    json j;
    if (what == "show") {
      need(a, 1, policy_help);
      j = expect_ok(call(a.admin, http::verb::get, "/v1/produce/policy"));
    } else if (what == "auto") {
      need(a, 1, policy_help);
      json body = {{"profile", "auto"}};
      j = expect_ok(call(a.admin, http::verb::put, "/v1/produce/policy", &body));
    } else if (what == "pin") {
      json body = json::object();
      if (a.positional.size() == 2) {
        if (a.positional[1] == "auto") throw std::invalid_argument("`kairo policy auto` hands the policy to the tuner");
        body["profile"] = a.positional[1];
      } else {
        need(a, 1, policy_help);
      }
      if (auto m = a.one("min-batches")) body["min_batches"] = whole(*m, "min-batches");
      if (auto l = a.one("linger-ms")) {
        try {
          body["linger_ms"] = std::stod(*l);
        } catch (const std::exception&) {
          throw std::invalid_argument("--linger-ms takes a number of milliseconds, not '" + *l + "'");
        }
      }
      if (body.empty())
        throw std::invalid_argument(std::string("pin needs a profile or --min-batches\n") + policy_help);
      j = expect_ok(call(a.admin, http::verb::put, "/v1/produce/policy", &body));
    } else {
      throw std::invalid_argument("unknown policy command '" + what + "'\n" + policy_help);
    }
    if (a.json) return print_json(j), 0;
    std::printf("profile %s: min_batches %s, linger %s ms, buffer %s\n", cell(j["profile"]).c_str(),
                cell(j["min_batches"]).c_str(), cell(j["linger_ms"]).c_str(),
                human_bytes(j["buffer_bytes"].get<uint64_t>()).c_str());
    if (j.contains("reason") && cell(j["reason"]) != "-") std::printf("last change: %s\n", cell(j["reason"]).c_str());
    return 0;
  });
}

int run_tuner_command(int argc, char** argv) {
  auto a = parse(argc, argv, {"limit"});
  if (a.help || a.positional.empty()) {
    std::fputs(tuner_help, a.help ? stdout : stderr);
    return a.help ? 0 : 2;
  }
  return wrap([&] {
    const std::string& what = a.positional[0];
    need(a, 1, tuner_help);
    if (what != "decisions" && what != "changes")
      throw std::invalid_argument("unknown tuner command '" + what + "'\n" + tuner_help);
    const int32_t limit = a.one("limit") ? whole(*a.one("limit"), "limit") : 20;
    auto j = expect_ok(call(a.admin, http::verb::get, "/v1/tuner"));
    const json& list = j[what == "decisions" ? "recent_decisions" : "changes"];
    json picked = json::array();
    for (const auto& d : list)
      if (static_cast<int32_t>(picked.size()) < limit) picked.push_back(d);
    if (a.json) return print_json(picked), 0;
    std::printf("tuner %s: %s\n", j["active"].get<bool>() ? "active" : "observing", cell(j["note"]).c_str());
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : picked) {
      char at[32];
      std::snprintf(at, sizeof at, "%.1f s", d["at_s"].get<double>());
      rows.push_back({at, cell(d["rule"]), cell(d["min_batches"]), cell(d["linger_ms"]),
                      d["changed"].get<bool>() ? "yes" : "no", cell(d["reason"])});
    }
    print_table({"AT", "RULE", "MIN BATCHES", "LINGER MS", "CHANGED", "REASON"}, rows);
    return 0;
  });
}

}  // namespace server
