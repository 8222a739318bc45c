#include "experiments/lab/bench_options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

#include <boost/program_options.hpp>

#include "experiments/lab/bench_kafka.h"

namespace po = boost::program_options;

namespace lab {

std::optional<double> parse_duration_s(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  size_t unit_at = text.size();
  while (unit_at > 0 && std::isalpha(static_cast<unsigned char>(text[unit_at - 1]))) --unit_at;
  const std::string number(text.substr(0, unit_at));
  const std::string_view unit = text.substr(unit_at);
  if (number.empty()) return std::nullopt;
  double value = 0;
  size_t used = 0;
  try {
    value = std::stod(number, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != number.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  if (unit.empty() || unit == "s") return value;
  if (unit == "ms") return value / 1e3;
  if (unit == "us") return value / 1e6;
  if (unit == "m" || unit == "min") return value * 60;
  if (unit == "h") return value * 3600;
  return std::nullopt;
}

std::optional<std::vector<bench_config::load_step>> parse_schedule(std::string_view text) {
  std::vector<bench_config::load_step> out;
  while (!text.empty()) {
    const size_t comma = std::min(text.find_first_of(",;"), text.size());
    const std::string_view item = text.substr(0, comma);
    text.remove_prefix(std::min(comma + 1, text.size()));
    if (item.empty()) continue;
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto at = parse_duration_s(item.substr(0, colon));
    const std::string_view n = item.substr(colon + 1);
    int conc = -1;
    const auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), conc);
    if (!at || ec != std::errc() || p != n.data() + n.size() || conc < 0) return std::nullopt;
    out.push_back({*at, conc});
  }
  if (out.empty()) return std::nullopt;
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at_s < b.at_s; });
  return out;
}

std::string format_schedule(const std::vector<bench_config::load_step>& schedule) {
  std::ostringstream o;
  for (size_t i = 0; i < schedule.size(); ++i) {
    if (i) o << ';';
    o << schedule[i].at_s << ':' << schedule[i].concurrency;
  }
  return o.str();
}

std::string_view mode_name(bench_mode m) {
  switch (m) {
    case bench_mode::produce: return "produce";
    case bench_mode::consume: return "consume";
    case bench_mode::round_trip: return "round-trip";
  }
  return "?";
}

std::string validate(const bench_config& cfg) {
  if (cfg.bootstrap.empty()) return "--bootstrap-servers is empty";
  if (cfg.topic.empty()) return "--topic is empty";
  if (cfg.concurrency < 1 || cfg.concurrency > 100000) return "--concurrency must be between 1 and 100000";
  if (cfg.producers < 1 || cfg.producers > 1024) return "--producers must be between 1 and 1024";
  if (!(cfg.duration_s > 0)) return "--duration must be positive (e.g. 30s)";
  if (!(cfg.warmup_s >= 0)) return "--warmup must not be negative";
  if (cfg.message_size > (size_t{64} << 20)) return "--message-size must be at most 64 MiB";
  if (cfg.acks != "0" && cfg.acks != "1" && cfg.acks != "all" && cfg.acks != "-1") return "--acks must be 0, 1 or all";
  static const std::vector<std::string> codecs = {"none", "gzip", "snappy", "lz4", "zstd"};
  if (std::find(codecs.begin(), codecs.end(), cfg.compression) == codecs.end()) {
    return "--compression must be none, gzip, snappy, lz4 or zstd";
  }
  if (cfg.partitions < 1) return "--partitions must be at least 1";
  if (cfg.linger_ms < 0) return "--linger-ms must not be negative";
  if (cfg.rate && !(*cfg.rate > 0)) return "--rate must be positive (messages per second, all producers together)";
  if (cfg.mode == bench_mode::round_trip && cfg.message_size < bench_detail::payload_header_bytes) {
    return "--mode round-trip needs --message-size of at least " + std::to_string(bench_detail::payload_header_bytes) +
           " (the send time travels in the payload)";
  }
  for (const auto& s : cfg.schedule) {
    if (s.concurrency < 0 || s.concurrency > 100000) return "schedule concurrency must be between 0 and 100000";
    if (!(s.at_s >= 0)) return "schedule times must not be negative";
  }
  return {};
}

std::string bench_usage() {
  return "usage: kairo-lab bench [options]\n"
         "Loads a Kafka broker with librdkafka and reports rate and latency.\n"
         "Closed loop (default): each of --concurrency senders per producer keeps exactly one\n"
         "message in flight: send, wait for its delivery report, record the latency, repeat.\n\n"
         "  --bootstrap-servers H:P  broker(s) (default 127.0.0.1:9092)\n"
         "  --topic NAME             topic (default kairo-bench); created when missing\n"
         "  --mode M                 produce | consume | round-trip (default produce)\n"
         "  --concurrency N          senders per producer, one message in flight each (default 1)\n"
         "  --producers K            producer instances, one connection each (default 1)\n"
         "  --duration D             measured time: 30s, 500ms, 2m or plain seconds (default 30s)\n"
         "  --warmup D               load before measuring, not counted (default 0)\n"
         "  --message-size BYTES     payload size (default 256)\n"
         "  --acks A                 0 | 1 | all (default all)\n"
         "  --compression C          none | gzip | snappy | lz4 | zstd (default none)\n"
         "  --partitions N           partitions when the topic is created (default 3)\n"
         "  --linger-ms MS           producer linger.ms (default 0)\n"
         "  --rate R                 open loop: R messages/s in total on a fixed schedule; latency\n"
         "                           counts from the scheduled time; --concurrency is ignored\n"
         "  --schedule T:N,...       closed-loop load steps: from time T (in the measured window)\n"
         "                           N senders per producer are active, e.g. 0:8,10s:128\n"
         "  --progress-interval D    progress line period (default 5s; 0 = none)\n"
         "  -X, --property KEY=VAL   librdkafka property for every client, applied last (repeatable)\n"
         "  --json FILE              write the result as one JSON object\n"
         "  --csv FILE               append the result as a CSV row (header when the file is new)\n"
         "  --help                   this text\n\n"
         "round-trip: a consumer reads the topic alongside and reports end-to-end latency from the\n"
         "send time stamped in each message, besides the producers' ack latency.\n"
         "consume: reads the topic from the beginning until caught up or --duration is over.\n";
}

bench_cli parse_bench_args(int argc, const char* const* argv) {
  bench_cli out;
  bench_config& c = out.config;
  c.progress_interval_s = 5;
  std::string mode = "produce", duration = "30s", warmup = "0", schedule, progress = "5s";
  double rate = 0;
  std::vector<std::string> properties;
  po::options_description desc;
  desc.add_options()("help,h", "")("bootstrap-servers,b", po::value(&c.bootstrap))("topic,t", po::value(&c.topic))(
      "mode", po::value(&mode))("concurrency,c", po::value(&c.concurrency))("producers", po::value(&c.producers))(
      "duration,d", po::value(&duration))("warmup", po::value(&warmup))("message-size,s", po::value(&c.message_size))(
      "acks", po::value(&c.acks))("compression", po::value(&c.compression))("partitions", po::value(&c.partitions))(
      "linger-ms", po::value(&c.linger_ms))("rate", po::value(&rate))("schedule", po::value(&schedule))(
      "progress-interval", po::value(&progress))("property,X", po::value(&properties)->composing())(
      "json", po::value(&out.json_path))("csv", po::value(&out.csv_path));
  po::variables_map vm;
  try {
    const po::positional_options_description no_positionals;  // a stray word is an error, not ignored
    po::store(po::command_line_parser(argc, argv).options(desc).positional(no_positionals).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    out.error = e.what();
    return out;
  }
  if (vm.count("help")) {
    out.help = true;
    return out;
  }
  if (mode == "produce") {
    c.mode = bench_mode::produce;
  } else if (mode == "consume") {
    c.mode = bench_mode::consume;
  } else if (mode == "round-trip" || mode == "roundtrip" || mode == "round_trip") {
    c.mode = bench_mode::round_trip;
  } else {
    out.error = "--mode must be produce, consume or round-trip, not '" + mode + "'";
    return out;
  }
  const auto d = parse_duration_s(duration), w = parse_duration_s(warmup), pi = parse_duration_s(progress);
  if (!d) out.error = "--duration '" + duration + "' is not a duration (try 30s, 500ms, 2m)";
  else if (!w) out.error = "--warmup '" + warmup + "' is not a duration (try 5s)";
  else if (!pi) out.error = "--progress-interval '" + progress + "' is not a duration (try 5s)";
  if (!out.error.empty()) return out;
  c.duration_s = *d;
  c.warmup_s = *w;
  c.progress_interval_s = *pi;
  if (vm.count("rate")) c.rate = rate;
  if (!schedule.empty()) {
    auto s = parse_schedule(schedule);
    if (!s) {
      out.error = "--schedule '" + schedule + "' is not a list of TIME:SENDERS (e.g. 0:8,10s:128)";
      return out;
    }
    c.schedule = *s;
  }
  for (const auto& kv : properties) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      out.error = "-X '" + kv + "' is not KEY=VALUE (a librdkafka property, e.g. -X batch.num.messages=100)";
      return out;
    }
    c.client_properties.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (c.acks == "-1") c.acks = "all";
  out.error = validate(c);
  return out;
}

}  // namespace lab
