// The bench's result formats: human summary, JSON, CSV. JSON and CSV carry the same flat fields
// (one list drives both), latencies in microseconds, so that tables and plots can be made from
// either.
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "experiments/lab/bench.h"
#include "experiments/lab/bench_options.h"

namespace lab {

namespace {

using field = std::pair<std::string, nlohmann::json>;

void add_latency(std::vector<field>& f, const std::string& prefix, const latency_summary& l) {
  f.emplace_back(prefix + "p50_us", l.p50);
  f.emplace_back(prefix + "p90_us", l.p90);
  f.emplace_back(prefix + "p95_us", l.p95);
  f.emplace_back(prefix + "p99_us", l.p99);
  f.emplace_back(prefix + "p999_us", l.p999);
  f.emplace_back(prefix + "max_us", l.max);
  f.emplace_back(prefix + "mean_us", l.mean);
}

std::vector<field> fields(const bench_result& r) {
  const bench_config& c = r.config;
  std::vector<field> f;
  f.emplace_back("mode", std::string(mode_name(c.mode)));
  f.emplace_back("bootstrap", c.bootstrap);
  f.emplace_back("topic", c.topic);
  f.emplace_back("concurrency", c.concurrency);
  f.emplace_back("producers", c.producers);
  f.emplace_back("duration_s", c.duration_s);
  f.emplace_back("warmup_s", c.warmup_s);
  f.emplace_back("message_size", c.message_size);
  f.emplace_back("acks", c.acks);
  f.emplace_back("compression", c.compression);
  f.emplace_back("partitions", c.partitions);
  f.emplace_back("topic_partitions", r.topic_partitions);
  f.emplace_back("linger_ms", c.linger_ms);
  f.emplace_back("rate", c.rate ? nlohmann::json(*c.rate) : nlohmann::json(nullptr));
  f.emplace_back("schedule", format_schedule(c.schedule));
  std::string props;
  for (const auto& [k, v] : c.client_properties) props += (props.empty() ? "" : ";") + k + "=" + v;
  f.emplace_back("client_properties", props);
  f.emplace_back("messages", r.messages);
  f.emplace_back("failed", r.failed);
  f.emplace_back("unsent", r.unsent);
  f.emplace_back("bytes", r.bytes);
  f.emplace_back("seconds", r.seconds);
  f.emplace_back("msgs_per_sec", r.msgs_per_sec);
  f.emplace_back("mb_per_sec", r.mb_per_sec);
  add_latency(f, "", r.latency);
  f.emplace_back("received", r.received);
  add_latency(f, "e2e_", r.e2e_latency);
  f.emplace_back("error", r.error);
  return f;
}

std::string csv_cell(const nlohmann::json& v) {
  if (v.is_null()) return {};
  if (!v.is_string()) return v.dump();
  const auto s = v.get<std::string>();
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string thousands(uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string ms(double us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", us / 1e3);
  return buf;
}

std::string latency_line(const latency_summary& l) {
  return "p50 " + ms(l.p50) + "  p90 " + ms(l.p90) + "  p95 " + ms(l.p95) + "  p99 " + ms(l.p99) + "  p99.9 " +
         ms(l.p999) + "  max " + ms(l.max) + "  (mean " + ms(l.mean) + ")";
}

}  // namespace

std::string to_json(const bench_result& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (auto& [k, v] : fields(r)) j[k] = v;
  return j.dump();
}

std::string csv_header() {
  std::string out;
  for (const auto& [k, v] : fields(bench_result{})) out += (out.empty() ? "" : ",") + k;
  return out;
}

std::string to_csv_row(const bench_result& r) {
  std::string out;
  bool first = true;
  for (const auto& [k, v] : fields(r)) {
    if (!first) out += ',';
    first = false;
    out += csv_cell(v);
  }
  return out;
}

std::string to_text(const bench_result& r) {
  const bench_config& c = r.config;
  std::ostringstream o;
  char buf[256];
  o << "kairo-lab bench — " << mode_name(c.mode) << " against " << c.bootstrap << ", topic " << c.topic;
  if (r.topic_partitions > 0) o << " (" << r.topic_partitions << " partitions)";
  o << "\n";
  if (!r.error.empty()) {
    o << "  ERROR: " << r.error << "\n";
    return o.str();
  }
  if (c.mode != bench_mode::consume) {
    if (c.rate) {
      std::snprintf(buf, sizeof buf, "  load:        open loop, %.0f msg/s over %d producer(s)\n", *c.rate,
                    c.producers);
    } else {
      std::snprintf(buf, sizeof buf, "  load:        closed loop, %d sender(s) x %d producer(s)%s\n", c.concurrency,
                    c.producers, c.schedule.empty() ? "" : (", schedule " + format_schedule(c.schedule)).c_str());
    }
    o << buf;
    std::snprintf(buf, sizeof buf, "  settings:    %zu B messages, acks %s, compression %s, linger %d ms\n",
                  c.message_size, c.acks.c_str(), c.compression.c_str(), c.linger_ms);
    o << buf;
  }
  std::snprintf(buf, sizeof buf, "  duration:    %.2f s measured (+%.2f s warm-up)\n", r.seconds, c.warmup_s);
  o << buf;
  const uint64_t attempted = r.messages + r.failed;
  std::snprintf(buf, sizeof buf, "%.2f",
                attempted ? 100.0 * static_cast<double>(r.failed) / static_cast<double>(attempted) : 0.0);
  o << "  messages:    " << thousands(r.messages) << "\n";
  o << "  failed:      " << thousands(r.failed) << " (" << buf << "%)";
  if (r.unsent) o << ", of which " << thousands(r.unsent) << " not sent on schedule (in-flight cap)";
  o << "\n";
  std::snprintf(buf, sizeof buf, "  bytes:       %.2f MB\n  rate:        %s msg/s, %.2f MB/s\n",
                static_cast<double>(r.bytes) / 1e6, thousands(static_cast<uint64_t>(r.msgs_per_sec + 0.5)).c_str(),
                r.mb_per_sec);
  o << buf;
  if (c.mode != bench_mode::consume) o << "  ack latency (ms): " << latency_line(r.latency) << "\n";
  if (c.mode == bench_mode::round_trip) {
    o << "  e2e latency (ms): " << latency_line(r.e2e_latency) << "\n";
    o << "  received:    " << thousands(r.received) << "\n";
  }
  return o.str();
}

}  // namespace lab
