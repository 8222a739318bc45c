#include "experiments/lab/experiment_output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <sstream>
#include <tuple>

namespace lab::experiment {
namespace {

std::string num(double v, const char* fmt = "%.6g") {
  if (std::isnan(v)) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

nlohmann::json jnum(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

// Column name -> value; the single source of the CSV and the JSON row, so they never disagree.
std::vector<std::pair<std::string, nlohmann::json>> columns(const point_result& r) {
  const auto& b = r.bench;
  const auto& s = r.server;
  return {
      {"experiment", r.experiment},
      {"point", r.pt.id},
      {"index", r.pt.index},
      {"target", r.target},
      {"mock", r.mock},
      {"profile", r.profile},
      {"static_policy", r.static_policy},
      {"server_args", r.server_args},
      {"storage", r.pt.storage},
      {"storage_phases", r.storage_phases},
      {"producers", r.pt.producers},
      {"concurrency", r.pt.concurrency},
      {"concurrency_phases", r.concurrency_phases},
      {"message_size", r.pt.message_size},
      {"rate", r.pt.rate ? nlohmann::json(*r.pt.rate) : nlohmann::json(nullptr)},
      {"repetition", r.pt.repetition},
      {"duration_s", r.pt.duration_s},
      {"warmup_s", r.pt.warmup_s},
      {"acks", b.config.acks},
      {"partitions", b.topic_partitions ? b.topic_partitions : b.config.partitions},
      {"compression", b.config.compression},
      {"status", r.status},
      {"error", r.error},
      {"messages", b.messages},
      {"failed", b.failed},
      {"unsent", b.unsent},
      {"bytes", b.bytes},
      {"seconds", b.seconds},
      {"msgs_per_sec", b.msgs_per_sec},
      {"mb_per_sec", b.mb_per_sec},
      {"p50_us", b.latency.p50},
      {"p90_us", b.latency.p90},
      {"p95_us", b.latency.p95},
      {"p99_us", b.latency.p99},
      {"p999_us", b.latency.p999},
      {"max_us", b.latency.max},
      {"mean_us", b.latency.mean},
      {"batches_per_flush", jnum(s.batches_per_flush)},
      {"mean_sync_ms", jnum(s.mean_sync_ms)},
      {"simulated_delay_ms", jnum(s.simulated_delay_ms)},
      {"records_per_group", jnum(s.records_per_group)},
      {"bytes_per_group", jnum(s.bytes_per_group)},
      {"flushes", jnum(s.flushes)},
      {"flushes_min_batches", jnum(s.flushes_min_batches)},
      {"flushes_linger", jnum(s.flushes_linger)},
      {"flushes_buffer", jnum(s.flushes_buffer)},
      {"mean_pending_batches", jnum(s.mean_pending_batches)},
      {"max_pending_batches", jnum(s.max_pending_batches)},
      {"peak_rss_bytes", r.peak_rss_bytes >= 0 ? nlohmann::json(r.peak_rss_bytes) : jnum(s.max_rss_bytes)},
      {"scrapes", s.scrapes},
      {"cpu_seconds", jnum(r.cpu_seconds)},
      {"cpu_us_per_message", jnum(r.cpu_us_per_message)},
      {"bound_r_us", jnum(r.bound.r_us)},
      {"bound_f_us", jnum(r.bound.f_us)},
      {"bound_f_probe_us", jnum(r.bound.f_probe_us)},
      {"bound_f_size", r.bound.f_size ? nlohmann::json(r.bound.f_size) : nlohmann::json(nullptr)},
      {"bound_f_delay_us", jnum(r.bound.f_delay_us)},
      {"bound_msgs_per_sec", jnum(r.bound.bound_msgs_per_sec)},
      {"fraction_of_bound", jnum(r.bound.fraction_of_bound)},
      {"p50_target_us", jnum(r.bound.p50_target_us)},
      {"bound_note", r.bound.note},
      {"server_killed", r.server_killed},
      {"server_stop", r.server_stop},
      {"started_at", r.started_at},
      {"wall_s", r.wall_s},
  };
}

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_field(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) return num(v.get<double>(), "%.10g");
  return v.dump();
}

std::string ms(double us) { return num(us / 1e3, "%.3g"); }

std::string fmt_rate(double v) {
  if (std::isnan(v)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

}  // namespace

std::string points_csv_header() {
  static const point_result blank;
  std::string h;
  for (auto& [k, v] : columns(blank)) h += (h.empty() ? "" : ",") + k;
  return h;
}

std::string points_csv_row(const point_result& r) {
  std::string row;
  bool first = true;
  for (auto& [k, v] : columns(r)) {
    if (!first) row += ",";
    first = false;
    row += cell(v);
  }
  return row;
}

nlohmann::ordered_json point_json(const point_result& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (auto& [k, v] : columns(r)) j[k] = v;
  return j;
}

std::string utc_timestamp(bool for_file_name) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, for_file_name ? "%Y%m%d-%H%M%S" : "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string summary_markdown(const spec& s, const run_info& info, const std::vector<point_result>& rows) {
  std::ostringstream md;
  md << "# Experiment `" << s.name << "`" << (info.quick ? " (quick)" : "") << "\n\n";
  if (!s.description.empty()) md << s.description << "\n\n";
  md << "- command: `" << info.command << "`\n";
  md << "- started: " << info.started_at << ", finished: " << info.finished_at << "\n";
  md << "- git commit: " << (info.git_commit.empty() ? "unknown" : "`" + info.git_commit + "`") << "\n";
  md << "- kairo: `" << info.kairo_binary << "`; host: " << info.host << "\n";
  int ok = 0;
  for (auto& r : rows) ok += r.status == "ok";
  md << "- points: " << rows.size() << " of " << info.planned_points << " planned finished, " << ok << " ok, "
     << rows.size() - ok << " failed\n";
  if (info.interrupted)
    md << "- **interrupted** (Ctrl-C) during point `" << info.interrupted_point
       << "`: that point and the ones after it are missing\n";
  md << "- storage classes other than `native` and `tmpfs` are **simulated**: a delay added after every real "
        "fdatasync (`--simulated-sync-delay`); `tmpfs` puts kairo's data directory on "
     << tmpfs_root << " (fdatasync free: the broker's own cost)\n";
  md << "- bound = C / (R + F): C = producers × concurrency; R = the mock's p50 at the same load in this run; F = "
        "overwrite+fdatasync p50 of the data directory's disk at the smallest probed size holding a group's bytes "
        "(mean of the probes at the start and the end of the run) + the storage class's simulated delay; "
        "`of bound` = msg/s ÷ bound\n";
  md << "- CPU: utime + stime of the server process over the measured window, per acknowledged message\n\n";

  if (!info.disks.empty()) {
    md << "## The disk\n\n";
    for (auto& d : info.disks) {
      md << "### "
         << (d.root == tmpfs_storage ? std::string("tmpfs (") + tmpfs_root + ")" : "native (the result folder)")
         << "\n\n";
      if (!d.error.empty()) md << "Probe problem: " << d.error << "\n\n";
      for (auto [when, probe] : {std::pair{"At the start of the run", &d.start}, std::pair{"At the end", &d.end}}) {
        if (!*probe) continue;
        md << when << ". " << disk_probe_markdown(**probe) << "\n";
      }
    }
  }

  md << "## Points\n\n";
  md << "| point | target | storage | producers×conc | size | msg/s | MB/s | p50 ms | p99 ms | p99.9 ms | "
        "batches/flush "
        "| sync ms (real + simulated) | peak RSS MiB | CPU µs/msg | R µs | F µs | bound msg/s | of bound | status |\n";
  md << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (auto& r : rows) {
    std::string conc = std::to_string(r.pt.producers) + "×" +
                       (r.concurrency_phases.empty() ? std::to_string(r.pt.concurrency) : r.concurrency_phases);
    if (r.pt.rate) conc = "open " + num(*r.pt.rate) + "/s";
    double rss = r.peak_rss_bytes >= 0 ? r.peak_rss_bytes : r.server.max_rss_bytes;
    md << "| " << r.pt.id << " | " << r.target << " | " << (r.storage_phases.empty() ? r.pt.storage : r.storage_phases)
       << " | " << conc << " | " << r.pt.message_size << " | " << fmt_rate(r.bench.msgs_per_sec) << " | "
       << num(r.bench.mb_per_sec, "%.3g") << " | " << ms(r.bench.latency.p50) << " | " << ms(r.bench.latency.p99)
       << " | " << ms(r.bench.latency.p999) << " | " << num(r.server.batches_per_flush, "%.3g") << " | "
       << (std::isnan(r.server.mean_sync_ms)
               ? std::string()
               : num(r.server.mean_sync_ms, "%.3g") + " + " + num(r.server.simulated_delay_ms, "%.3g"))
       << " | " << num(rss / 1048576.0, "%.0f") << " | " << num(r.cpu_us_per_message, "%.3g") << " | "
       << num(r.bound.r_us, "%.0f") << " | " << num(r.bound.f_us, "%.0f") << " | "
       << num(r.bound.bound_msgs_per_sec, "%.0f") << " | " << num(r.bound.fraction_of_bound, "%.2f") << " | "
       << (r.status == "ok" ? "ok" : "failed: " + r.error) << " |\n";
  }

  // Repetitions: the median of each point's runs, with the spread (the machine is shared).
  if (s.repeat > 1) {
    std::map<std::string, std::vector<const point_result*>> reps;
    std::vector<std::string> order;
    for (auto& r : rows) {
      if (r.status != "ok") continue;
      std::string key = r.target + " | " + r.pt.storage + " | " + std::to_string(r.pt.message_size) + " | " +
                        std::to_string(r.pt.producers) + "×" + std::to_string(r.pt.concurrency);
      if (!reps.count(key)) order.push_back(key);
      reps[key].push_back(&r);
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.empty() ? NAN : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    };
    md << "\n## Medians of " << s.repeat << " repetitions" << (s.interleave ? " (interleaved)" : "")
       << "\n\n| target | storage | size | producers×conc | runs | msg/s median (min–max) | p50 ms | p99 ms |\n"
       << "|---|---|---|---|---|---|---|---|\n";
    for (auto& key : order) {
      std::vector<double> rate, p50, p99;
      for (auto* r : reps[key]) {
        rate.push_back(r->bench.msgs_per_sec);
        p50.push_back(r->bench.latency.p50);
        p99.push_back(r->bench.latency.p99);
      }
      md << "| " << key << " | " << rate.size() << " | " << fmt_rate(median(rate)) << " ("
         << fmt_rate(*std::min_element(rate.begin(), rate.end())) << "–"
         << fmt_rate(*std::max_element(rate.begin(), rate.end())) << ") | " << ms(median(p50)) << " | "
         << ms(median(p99)) << " |\n";
    }
  }

  // Per load: each target's msg/s and p99 side by side, and the best static profile.
  if (!s.phased()) {
    std::vector<std::string> targets;
    for (auto& t : s.targets) targets.push_back(t.label);
    // load key -> target -> its runs (one per repetition); by_load keeps the median run of each
    std::map<std::string, std::map<std::string, std::vector<const point_result*>>> runs_by_load;
    std::map<std::string, std::map<std::string, const point_result*>> by_load;
    std::map<std::string, std::tuple<std::string, int, int, double>> sort_key;  // numeric order of the loads
    std::vector<std::string> order;
    for (auto& r : rows) {
      if (r.status != "ok") continue;
      std::string key = (r.mock ? std::string("*") : r.pt.storage) + " | " + std::to_string(r.pt.message_size) + " | " +
                        std::to_string(r.pt.producers) + "×" + std::to_string(r.pt.concurrency) +
                        (r.pt.rate ? " open " + num(*r.pt.rate) + "/s" : "");
      const double x = r.pt.rate ? *r.pt.rate : r.pt.concurrency;
      if (r.mock) {  // the mock broker has no disk: it is the yardstick for every storage class
        for (auto& st : s.storage) {
          std::string k = st + key.substr(1);
          if (!runs_by_load.count(k)) order.push_back(k);
          runs_by_load[k][r.target].push_back(&r);
          sort_key[k] = {st, r.pt.message_size, r.pt.producers, x};
        }
        continue;
      }
      if (!runs_by_load.count(key)) order.push_back(key);
      runs_by_load[key][r.target].push_back(&r);
      sort_key[key] = {r.pt.storage, r.pt.message_size, r.pt.producers, x};
    }
    // With repetitions, each table below reads the median run (by msg/s; of an even count the
    // lower one), not whichever ran last.
    for (auto& [key, m] : runs_by_load)
      for (auto& [target, v] : m) {
        auto sorted = v;
        std::sort(sorted.begin(), sorted.end(),
                  [](auto* a, auto* b) { return a->bench.msgs_per_sec < b->bench.msgs_per_sec; });
        by_load[key][target] = sorted[(sorted.size() - 1) / 2];
      }
    std::sort(order.begin(), order.end(), [&](auto& a, auto& b) { return sort_key[a] < sort_key[b]; });
    if (targets.size() > 1 && !order.empty()) {
      md << "\n## Targets side by side (msg/s, p99 ms, fraction of the bound)\n\n";
      if (s.repeat > 1)
        md << "Each cell is the median run of " << s.repeat << " (by msg/s), as in the regret table below.\n\n";
      md << "| storage | size | producers×conc |";
      for (auto& t : targets) md << " " << t << " |";
      md << " bound msg/s | best static |\n|---|---|---|";
      for (size_t i = 0; i <= targets.size() + 1; ++i) md << "---|";
      md << "\n";
      for (auto& key : order) {
        md << "| " << key << " |";
        const point_result* best = nullptr;
        double lo = NAN, hi = NAN;  // the bounds differ between targets when their groups do
        for (auto& t : targets) {
          auto it = by_load[key].find(t);
          if (it == by_load[key].end()) {
            md << " – |";
            continue;
          }
          const auto* r = it->second;
          md << " " << fmt_rate(r->bench.msgs_per_sec) << ", " << ms(r->bench.latency.p99);
          if (!std::isnan(r->bound.fraction_of_bound)) md << ", " << num(r->bound.fraction_of_bound, "%.2f");
          md << " |";
          if (const double bd = r->bound.bound_msgs_per_sec; !std::isnan(bd)) {
            lo = std::isnan(lo) ? bd : std::min(lo, bd);
            hi = std::isnan(hi) ? bd : std::max(hi, bd);
          }
          if (r->static_policy && (!best || r->bench.msgs_per_sec > best->bench.msgs_per_sec)) best = r;
        }
        md << " " << (std::isnan(lo) ? "–" : fmt_rate(lo) + (hi > lo * 1.005 ? "–" + fmt_rate(hi) : "")) << " | "
           << (best ? best->target : "–") << " |\n";
      }
      // The broker's CPU per message, at the same loads (tmpfs against the mock: CPU efficiency).
      md << "\n## Broker CPU per message (µs of utime + stime)\n\n| storage | size | producers×conc |";
      for (auto& t : targets) md << " " << t << " |";
      md << "\n|---|---|---|";
      for (size_t i = 0; i < targets.size(); ++i) md << "---|";
      md << "\n";
      for (auto& key : order) {
        md << "| " << key << " |";
        for (auto& t : targets) {
          auto it = by_load[key].find(t);
          md << " " << (it == by_load[key].end() ? "–" : num(it->second->cpu_us_per_message, "%.3g")) << " |";
        }
        md << "\n";
      }
      // The regret table: auto against the best static profile at the same load.
      for (auto& t : s.targets) {
        if (!t.is_auto()) continue;
        md << "\n## Regret of `" << t.label << "` (ratio to the best static profile at each load)\n\n";
        md << "| storage | size | producers×conc | best static | msg/s ratio (≥ 0.98) | p99 ratio (≤ 1.05) |\n";
        md << "|---|---|---|---|---|---|\n";
        for (auto& key : order) {
          auto& m = by_load[key];
          auto it = m.find(t.label);
          if (it == m.end()) continue;
          const point_result* best = nullptr;
          for (auto& [label, r] : m)
            if (r->static_policy && (!best || r->bench.msgs_per_sec > best->bench.msgs_per_sec)) best = r;
          if (!best) continue;
          double tr = best->bench.msgs_per_sec > 0 ? it->second->bench.msgs_per_sec / best->bench.msgs_per_sec : NAN;
          double pr = best->bench.latency.p99 > 0 ? it->second->bench.latency.p99 / best->bench.latency.p99 : NAN;
          md << "| " << key << " | " << best->target << " | " << num(tr, "%.3f") << (tr >= 0.98 ? "" : " ✗") << " | "
             << num(pr, "%.3f") << (pr <= 1.05 ? "" : " ✗") << " |\n";
        }
      }
    }
  }
  // Concurrency 1: one message in flight; its p50 cannot beat the client's cycle plus one sync.
  bool any_target = false;
  for (auto& r : rows) any_target = any_target || !std::isnan(r.bound.p50_target_us);
  if (any_target) {
    md << "\n## Concurrency 1: p50 against its target (mock p50 + F)\n\n"
          "| point | target | storage | size | p50 ms | target ms | R µs | F µs | p50 − target µs |\n"
          "|---|---|---|---|---|---|---|---|---|\n";
    for (auto& r : rows) {
      if (std::isnan(r.bound.p50_target_us)) continue;
      md << "| " << r.pt.id << " | " << r.target << " | " << r.pt.storage << " | " << r.pt.message_size << " | "
         << num(r.bench.latency.p50 / 1e3, "%.3f") << " | " << num(r.bound.p50_target_us / 1e3, "%.3f") << " | "
         << num(r.bound.r_us, "%.0f") << " | " << num(r.bound.f_us, "%.0f") << " | "
         << num(r.bench.latency.p50 - r.bound.p50_target_us, "%+.0f") << " |\n";
    }
  }
  std::string why_no_bound;
  for (auto& r : rows)
    if (!r.mock && std::isnan(r.bound.bound_msgs_per_sec) && !r.bound.note.empty()) {
      why_no_bound = r.bound.note;
      break;
    }
  if (!why_no_bound.empty()) md << "\nNo bound for some points; the first reason: " << why_no_bound << ".\n";
  md << "\nFiles: `points.csv`, `points.jsonl` (one row per point), `timeseries/<point>.csv`, `plots/`, "
        "`points/<point>/server.log`, `run.json` (the experiment as run).\n";
  return md.str();
}

}  // namespace lab::experiment
