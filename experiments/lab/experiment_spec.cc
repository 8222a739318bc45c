#include "experiments/lab/experiment_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace lab::experiment {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::invalid_argument(where + ": " + what);
}

// Keys starting with '_' or named "comment" are notes for readers and are ignored.
void check_keys(const json& obj, const std::string& where, std::initializer_list<const char*> known) {
  if (!obj.is_object()) fail(where, "expected a JSON object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (k.empty() || k[0] == '_' || k == "comment") continue;
    bool found = false;
    for (auto* n : known) found = found || k == n;
    if (!found) {
      std::string list;
      for (auto* n : known) list += std::string(list.empty() ? "" : ", ") + n;
      fail(where, "unknown key '" + k + "' (known keys: " + list + ")");
    }
  }
}

std::string get_string(const json& v, const std::string& where) {
  if (!v.is_string()) fail(where, "expected a string, got " + v.dump());
  return v.get<std::string>();
}

double get_number(const json& v, const std::string& where, double min_value) {
  if (!v.is_number()) fail(where, "expected a number, got " + v.dump());
  double d = v.get<double>();
  if (!(d >= min_value)) fail(where, "must be at least " + json(min_value).dump() + ", got " + v.dump());
  return d;
}

int get_int(const json& v, const std::string& where, int min_value) {
  if (!v.is_number_integer() && !v.is_number_unsigned()) fail(where, "expected an integer, got " + v.dump());
  long long i = v.get<long long>();
  if (i < min_value || i > 1'000'000'000)
    fail(where, "must be an integer >= " + std::to_string(min_value) + ", got " + v.dump());
  return static_cast<int>(i);
}

// An axis: a scalar or a non-empty list of them.
template <typename F>
auto get_axis(const json& v, const std::string& where, F one) {
  std::vector<decltype(one(v, where))> out;
  if (v.is_array()) {
    if (v.empty()) fail(where, "the list is empty; give at least one value");
    for (size_t i = 0; i < v.size(); ++i) out.push_back(one(v[i], where + "[" + std::to_string(i) + "]"));
  } else {
    out.push_back(one(v, where));
  }
  return out;
}

const std::set<std::string> profiles = {"low-latency", "balanced", "high-throughput", "auto"};

target parse_target(const json& t, const std::string& where) {
  check_keys(
      t, where,
      {"label", "mock", "profile", "min_batches", "linger_ms", "buffer_bytes", "args", "env", "client", "binary"});
  target out;
  if (!t.contains("label"))
    fail(where, "every target needs a \"label\" (used in file names, CSV rows and plot legends)");
  out.label = get_string(t["label"], where + ".label");
  if (out.label.empty() || out.label.find_first_of(",\"/\\ \t\n") != std::string::npos)
    fail(where + ".label", "must be non-empty without spaces, commas, quotes or slashes: '" + out.label + "'");
  if (t.contains("mock")) {
    if (!t["mock"].is_boolean()) fail(where + ".mock", "expected true or false");
    out.mock = t["mock"].get<bool>();
  }
  if (t.contains("profile")) {
    out.profile = get_string(t["profile"], where + ".profile");
    if (!profiles.count(out.profile))
      fail(where + ".profile",
           "'" + out.profile + "' is not a profile; use low-latency, balanced, high-throughput or auto");
  }
  if (t.contains("min_batches")) out.min_batches = get_int(t["min_batches"], where + ".min_batches", 1);
  if (t.contains("linger_ms")) out.linger_ms = get_number(t["linger_ms"], where + ".linger_ms", 0);
  if (t.contains("buffer_bytes")) out.buffer_bytes = get_int(t["buffer_bytes"], where + ".buffer_bytes", 1);
  if (t.contains("args")) {
    if (!t["args"].is_array()) fail(where + ".args", "expected a list of strings");
    for (auto& a : t["args"]) out.args.push_back(get_string(a, where + ".args"));
  }
  if (t.contains("env")) {
    if (!t["env"].is_object()) fail(where + ".env", "expected an object of NAME: \"value\"");
    for (auto it = t["env"].begin(); it != t["env"].end(); ++it)
      out.env.emplace_back(it.key(), get_string(it.value(), where + ".env." + it.key()));
  }
  if (t.contains("client")) {
    if (!t["client"].is_object()) fail(where + ".client", "expected an object of librdkafka property: \"value\"");
    for (auto it = t["client"].begin(); it != t["client"].end(); ++it)
      out.client.emplace_back(it.key(), get_string(it.value(), where + ".client." + it.key()));
  }
  if (t.contains("binary")) out.binary = get_string(t["binary"], where + ".binary");
  if (out.mock && (!out.profile.empty() || out.min_batches || out.linger_ms || out.buffer_bytes || !out.args.empty()))
    fail(where, "a mock target takes no server settings (profile, min_batches, linger_ms, buffer_bytes, args)");
  return out;
}

std::string fmt_num(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

}  // namespace

std::vector<std::string> target::server_args() const {
  std::vector<std::string> a;
  if (!profile.empty()) a.insert(a.end(), {"--produce-profile", profile});
  if (min_batches) a.insert(a.end(), {"--min-batches", std::to_string(*min_batches)});
  if (linger_ms) a.insert(a.end(), {"--linger-ms", fmt_num(*linger_ms)});
  if (buffer_bytes) a.insert(a.end(), {"--buffer-bytes", std::to_string(*buffer_bytes)});
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

spec load_spec_file(const std::string& path, bool quick) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read experiment file '" + path + "'");
  json doc;
  try {
    doc = json::parse(in, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(path + " is not valid JSON: " + e.what());
  }
  try {
    return parse_spec(doc, quick);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

spec parse_spec(const json& original, bool quick) {
  check_keys(original, "experiment",
             {"name", "description", "targets", "storage", "load", "phases", "scrape_interval_s", "repeat",
              "interleave", "quick"});
  json doc = original;
  if (quick) {
    if (!original.contains("quick"))
      fail("--quick", "this experiment has no \"quick\" block; add one with the overrides for a short run");
    if (!original["quick"].is_object()) fail("quick", "expected an object of overrides");
    if (original["quick"].contains("quick")) fail("quick", "a quick block cannot contain another");
    doc.merge_patch(original["quick"]);
  }
  doc.erase("quick");
  spec s;
  s.quick = quick;
  s.resolved = doc;
  if (!doc.contains("name")) fail("experiment", "missing \"name\" (used for the results folder)");
  s.name = get_string(doc["name"], "name");
  if (s.name.empty() || s.name.find_first_of("/\\ ") != std::string::npos)
    fail("name", "must be a non-empty file-name-safe word");
  if (doc.contains("description")) s.description = get_string(doc["description"], "description");

  if (!doc.contains("targets") || !doc["targets"].is_array() || doc["targets"].empty())
    fail("targets", "give a non-empty list of targets, e.g. [{\"label\": \"balanced\", \"profile\": \"balanced\"}]");
  std::set<std::string> labels;
  for (size_t i = 0; i < doc["targets"].size(); ++i) {
    auto t = parse_target(doc["targets"][i], "targets[" + std::to_string(i) + "]");
    if (!labels.insert(t.label).second) fail("targets[" + std::to_string(i) + "]", "duplicate label '" + t.label + "'");
    s.targets.push_back(std::move(t));
  }

  if (doc.contains("storage")) {
    s.storage = get_axis(doc["storage"], "storage", [](const json& v, const std::string& w) {
      auto str = get_string(v, w);
      if (str.empty() || str == "none" || str.find_first_of(",\"/ ") != std::string::npos)
        fail(w, "'" + str + "' is not a storage class; use native, tmpfs, cloud, hdd or a delay like 2ms or 1ms±20%");
      return str;
    });
  }

  if (doc.contains("load")) {
    const json& l = doc["load"];
    check_keys(l, "load",
               {"concurrency", "message_size", "producers", "rate", "duration_s", "warmup_s", "acks", "partitions",
                "compression", "topic"});
    auto& L = s.load;
    if (l.contains("concurrency"))
      L.concurrency = get_axis(l["concurrency"], "load.concurrency",
                               [](const json& v, const std::string& w) { return get_int(v, w, 1); });
    if (l.contains("message_size"))
      L.message_size = get_axis(l["message_size"], "load.message_size",
                                [](const json& v, const std::string& w) { return get_int(v, w, 1); });
    if (l.contains("producers"))
      L.producers = get_axis(l["producers"], "load.producers",
                             [](const json& v, const std::string& w) { return get_int(v, w, 1); });
    if (l.contains("rate") && !l["rate"].is_null())
      L.rate =
          get_axis(l["rate"], "load.rate", [](const json& v, const std::string& w) { return get_number(v, w, 1e-3); });
    if (l.contains("duration_s")) L.duration_s = get_number(l["duration_s"], "load.duration_s", 0.1);
    if (l.contains("warmup_s")) L.warmup_s = get_number(l["warmup_s"], "load.warmup_s", 0);
    if (l.contains("acks")) {
      L.acks = get_string(l["acks"], "load.acks");
      if (L.acks != "0" && L.acks != "1" && L.acks != "all") fail("load.acks", "use \"0\", \"1\" or \"all\"");
    }
    if (l.contains("partitions")) L.partitions = get_int(l["partitions"], "load.partitions", 1);
    if (l.contains("compression")) L.compression = get_string(l["compression"], "load.compression");
    if (l.contains("topic")) L.topic = get_string(l["topic"], "load.topic");
  }

  if (doc.contains("phases") && !doc["phases"].is_null()) {
    const json& ph = doc["phases"];
    if (!ph.is_array()) fail("phases", "expected a list of phases");
    double t = 0;
    for (size_t i = 0; i < ph.size(); ++i) {
      const std::string w = "phases[" + std::to_string(i) + "]";
      check_keys(ph[i], w, {"duration_s", "concurrency", "storage", "label"});
      phase p;
      if (!ph[i].contains("duration_s")) fail(w, "every phase needs \"duration_s\"");
      p.duration_s = get_number(ph[i]["duration_s"], w + ".duration_s", 0.1);
      if (ph[i].contains("concurrency")) p.concurrency = get_int(ph[i]["concurrency"], w + ".concurrency", 1);
      if (ph[i].contains("storage")) {
        p.storage = get_string(ph[i]["storage"], w + ".storage");
        // The data directory's filesystem is chosen when the server starts; a phase changes
        // only the simulated delay.
        if (on_tmpfs(*p.storage))
          fail(w + ".storage",
               "tmpfs cannot be a phase's storage (the data directory is placed when the server "
               "starts); put tmpfs in the top-level \"storage\" list instead");
      }
      if (ph[i].contains("label")) p.label = get_string(ph[i]["label"], w + ".label");
      p.start_s = t;
      t += p.duration_s;
      s.phases.push_back(std::move(p));
    }
    bool any_conc = std::any_of(s.phases.begin(), s.phases.end(), [](auto& p) { return p.concurrency.has_value(); });
    if (any_conc && !s.load.rate.empty())
      fail("phases", "phases change closed-loop concurrency; they cannot be combined with an open-loop load.rate");
  }

  if (doc.contains("scrape_interval_s"))
    s.scrape_interval_s = get_number(doc["scrape_interval_s"], "scrape_interval_s", 0.1);
  if (doc.contains("repeat")) s.repeat = get_int(doc["repeat"], "repeat", 1);
  if (doc.contains("interleave")) {
    if (!doc["interleave"].is_boolean()) fail("interleave", "expected true or false");
    s.interleave = doc["interleave"].get<bool>();
  }
  return s;
}

std::vector<point> expand_points(const spec& s) {
  std::vector<point> out;
  double phased_total = 0;
  int phased_max_conc = 0;
  for (auto& p : s.phases) {
    phased_total += p.duration_s;
    if (p.concurrency) phased_max_conc = std::max(phased_max_conc, *p.concurrency);
  }
  // Closed loop sweeps over concurrency; open loop over the offered rate instead.
  std::vector<std::optional<double>> rates;
  if (s.load.rate.empty()) rates.push_back(std::nullopt);
  for (double r : s.load.rate) rates.push_back(r);
  const std::vector<int> open_loop_conc{s.load.concurrency.front()};
  const auto& concs = s.load.rate.empty() ? s.load.concurrency : open_loop_conc;

  for (size_t ti = 0; ti < s.targets.size(); ++ti) {
    const auto& t = s.targets[ti];
    // The mock broker has no disk: one pass, not one per storage class.
    std::vector<std::string> storages = t.mock ? std::vector<std::string>{"none"} : s.storage;
    for (auto& st : storages)
      for (int size : s.load.message_size)
        for (int prod : s.load.producers)
          for (auto& rate : rates)
            for (int c : concs)
              for (int rep = 1; rep <= s.repeat; ++rep) {
                point p;
                p.index = static_cast<int>(out.size());
                p.target_index = ti;
                p.storage = st;
                p.base_concurrency = c;
                p.concurrency = c;
                if (s.phased()) {
                  int first = s.phases.front().concurrency.value_or(c);
                  p.concurrency = std::max(first, phased_max_conc);
                }
                p.message_size = size;
                p.producers = prod;
                p.rate = rate;
                p.repetition = rep;
                p.duration_s = s.phased() ? phased_total : s.load.duration_s;
                p.warmup_s = s.load.warmup_s;
                char buf[64];
                std::snprintf(buf, sizeof buf, "%03d", p.index);
                std::string id = std::string(buf) + "-" + t.label + "-" + st;
                if (s.phased()) id += "-phased";
                else if (rate) id += "-r" + fmt_num(*rate);
                else id += "-c" + std::to_string(c);
                id += "-s" + std::to_string(size);
                if (s.load.producers.size() > 1 || prod != 1) id += "-p" + std::to_string(prod);
                if (s.repeat > 1) id += "-rep" + std::to_string(rep);
                for (auto& ch : id)
                  if (ch == '%' || ch == ' ' || static_cast<unsigned char>(ch) >= 0x80) ch = '_';
                p.id = id;
                out.push_back(std::move(p));
              }
  }
  if (s.interleave) {
    // Within a repetition the targets alternate at each load: A B at c1, A B at c128, ...
    std::stable_sort(out.begin(), out.end(), [](const point& a, const point& b) {
      return std::tie(a.repetition, a.storage, a.message_size, a.producers, a.rate, a.base_concurrency) <
             std::tie(b.repetition, b.storage, b.message_size, b.producers, b.rate, b.base_concurrency);
    });
    for (size_t i = 0; i < out.size(); ++i) {
      char buf[24];
      std::snprintf(buf, sizeof buf, "%03zu", i);
      out[i].index = static_cast<int>(i);
      out[i].id = buf + out[i].id.substr(out[i].id.find('-'));
    }
  }
  return out;
}

bool on_tmpfs(const std::string& storage) { return storage == tmpfs_storage; }

std::string sync_delay_arg(const std::string& storage) { return on_tmpfs(storage) ? "native" : storage; }

double configured_sync_delay_ms(const std::string& storage) {
  // The same names and grammar as kairo's parse_sync_delay (server/config.cc).
  if (storage == "native" || storage == "off" || storage == "0" || on_tmpfs(storage)) return 0;
  if (storage == "cloud") return 1;
  if (storage == "hdd") return 5;
  std::string v = storage;
  for (const char* sep : {"\u00b1", "+-"})
    if (auto at = v.find(sep); at != std::string::npos) v = v.substr(0, at);
  char* end = nullptr;
  const double n = std::strtod(v.c_str(), &end);
  const std::string unit(end);
  if (end == v.c_str() || !(n >= 0)) return NAN;
  if (unit == "us") return n / 1e3;
  if (unit == "ms") return n;
  if (unit == "s") return n * 1e3;
  return NAN;
}

std::string describe_concurrency_phases(const spec& s, const point& p) {
  if (!s.phased()) return {};
  std::string out;
  int cur = p.base_concurrency;
  for (auto& ph : s.phases) {
    if (ph.concurrency) cur = *ph.concurrency;
    if (!out.empty()) out += ';';
    out += std::to_string(cur);
    out += '@';
    out += fmt_num(ph.start_s);
    out += 's';
  }
  return out;
}

std::string describe_storage_phases(const spec& s, const point& p) {
  if (!s.phased()) return {};
  std::string out;
  std::string cur = p.storage;
  for (auto& ph : s.phases) {
    if (ph.storage && p.storage != "none") cur = *ph.storage;
    if (!out.empty()) out += ';';
    out += cur;
    out += '@';
    out += fmt_num(ph.start_s);
    out += 's';
  }
  return out;
}

}  // namespace lab::experiment
