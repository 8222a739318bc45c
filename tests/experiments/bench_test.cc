#include <catch2/catch.hpp>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "experiments/lab/bench.h"
#include "experiments/lab/bench_clients.h"
#include "experiments/lab/bench_options.h"
#include "experiments/lab/histogram.h"

using namespace lab;

namespace {

double exact_percentile(std::vector<uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  const auto rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))));
  return static_cast<double>(v[rank - 1]);
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("histogram buckets cover every value with <= 1/128 relative width", "[bench][histogram]") {
  std::mt19937_64 gen(7);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = gen() >> (gen() % 64);
    const uint64_t clamped = std::min<uint64_t>(v, (uint64_t{1} << latency_histogram::max_value_bits) - 1);
    const size_t idx = latency_histogram::index_of(v);
    REQUIRE(latency_histogram::bucket_low(idx) <= clamped);
    REQUIRE(clamped <= latency_histogram::bucket_high(idx));
    const uint64_t width = latency_histogram::bucket_high(idx) - latency_histogram::bucket_low(idx) + 1;
    REQUIRE(static_cast<double>(width) <= std::max(1.0, static_cast<double>(latency_histogram::bucket_low(idx)) / 128));
  }
  // Indices are contiguous: the bucket after a bucket starts right after it.
  for (size_t idx = 0; idx + 1 < latency_histogram::index_of(uint64_t{1} << 40); ++idx) {
    REQUIRE(latency_histogram::bucket_low(idx + 1) == latency_histogram::bucket_high(idx) + 1);
  }
}

TEST_CASE("histogram percentiles are within 1% of the exact ones", "[bench][histogram]") {
  std::mt19937_64 gen(42);
  // Log-normal latencies around 2 ms with a long tail, plus a few huge outliers.
  std::lognormal_distribution<double> dist(std::log(2e6), 0.8);
  std::vector<uint64_t> values;
  latency_histogram h;
  for (int i = 0; i < 300000; ++i) {
    const auto v = static_cast<uint64_t>(dist(gen));
    values.push_back(v);
    h.record(v);
  }
  for (uint64_t v : {uint64_t{1'000}, uint64_t{59'000'000'000}, uint64_t{3}}) {
    values.push_back(v);
    h.record(v);
  }
  REQUIRE(h.count() == values.size());
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999}) {
    const double exact = exact_percentile(values, q);
    INFO("q=" << q << " exact=" << exact << " got=" << h.percentile_ns(q));
    REQUIRE(std::abs(h.percentile_ns(q) - exact) <= 0.01 * exact);
  }
  REQUIRE(h.max_ns() == 59'000'000'000);
  REQUIRE(h.min_ns() == 3);
  REQUIRE(h.percentile_ns(1.0) == Approx(59e9));
}

TEST_CASE("histogram of a uniform 1 us .. 60 s sweep keeps every sample", "[bench][histogram]") {
  latency_histogram h;
  std::vector<uint64_t> values;
  for (double v = 1e3; v <= 60e9; v *= 1.01) {
    values.push_back(static_cast<uint64_t>(v));
    h.record(static_cast<uint64_t>(v));
  }
  REQUIRE(h.count() == values.size());
  for (double q : {0.25, 0.5, 0.75, 0.99}) {
    const double exact = exact_percentile(values, q);
    REQUIRE(std::abs(h.percentile_ns(q) - exact) <= 0.01 * exact);
  }
}

TEST_CASE("merged histograms equal one histogram of all samples", "[bench][histogram]") {
  std::mt19937_64 gen(1);
  std::exponential_distribution<double> dist(1.0 / 500'000);
  latency_histogram all, parts[4];
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<uint64_t>(dist(gen));
    all.record(v);
    parts[i % 4].record(v);
  }
  latency_histogram merged;
  for (auto& p : parts) merged.merge(p);
  REQUIRE(merged.count() == all.count());
  REQUIRE(merged.max_ns() == all.max_ns());
  REQUIRE(merged.mean_ns() == Approx(all.mean_ns()));
  for (double q : {0.5, 0.9, 0.99, 0.999}) REQUIRE(merged.percentile_ns(q) == all.percentile_ns(q));
  merged.reset();
  REQUIRE(merged.count() == 0);
  REQUIRE(merged.percentile_ns(0.5) == 0);
}

TEST_CASE("durations parse with units", "[bench][options]") {
  REQUIRE(parse_duration_s("30s") == 30);
  REQUIRE(parse_duration_s("500ms") == 0.5);
  REQUIRE(parse_duration_s("2m") == 120);
  REQUIRE(parse_duration_s("45") == 45);
  REQUIRE(parse_duration_s("1.5") == 1.5);
  REQUIRE(parse_duration_s("250us") == Approx(0.00025));
  REQUIRE(parse_duration_s("1h") == 3600);
  REQUIRE_FALSE(parse_duration_s(""));
  REQUIRE_FALSE(parse_duration_s("s"));
  REQUIRE_FALSE(parse_duration_s("10x"));
  REQUIRE_FALSE(parse_duration_s("-3s"));
  REQUIRE_FALSE(parse_duration_s("3 s s"));
}

TEST_CASE("schedules parse and steps apply from their time on", "[bench][options]") {
  const auto s = parse_schedule("10s:128,0:8,5:0");
  REQUIRE(s);
  REQUIRE(s->size() == 3);
  REQUIRE((*s)[0].at_s == 0);
  REQUIRE((*s)[2].concurrency == 128);
  REQUIRE_FALSE(parse_schedule("5"));
  REQUIRE_FALSE(parse_schedule("a:3"));

  bench_config cfg;
  cfg.concurrency = 4;
  cfg.schedule = *s;
  bench_detail::run_window w;
  w.cfg = &cfg;
  w.t0_ns = 1'000'000'000'000;
  w.max_senders = 128;
  REQUIRE(w.active_at(w.t0_ns - 1) == 4);  // warm-up: before the first step
  REQUIRE(w.active_at(w.t0_ns) == 8);
  REQUIRE(w.active_at(w.t0_ns + 6'000'000'000) == 0);
  REQUIRE(w.active_at(w.t0_ns + 10'000'000'000) == 128);
}

TEST_CASE("command line follows the report's bench", "[bench][options]") {
  const char* argv[] = {"bench",
                        "--bootstrap-servers",
                        "localhost:9092",
                        "--topic",
                        "t",
                        "--mode",
                        "produce",
                        "--concurrency",
                        "128",
                        "--duration",
                        "30s",
                        "--message-size",
                        "256",
                        "--acks",
                        "1"};
  const auto cli = parse_bench_args(static_cast<int>(std::size(argv)), argv);
  REQUIRE(cli.error.empty());
  REQUIRE(cli.config.bootstrap == "localhost:9092");
  REQUIRE(cli.config.concurrency == 128);
  REQUIRE(cli.config.duration_s == 30);
  REQUIRE(cli.config.message_size == 256);
  REQUIRE(cli.config.acks == "1");
  REQUIRE(cli.config.partitions == 3);
  REQUIRE(cli.config.linger_ms == 0);
  REQUIRE(cli.config.progress_interval_s == 5);
  REQUIRE_FALSE(cli.config.rate);

  const char* stray[] = {"bench", "oops"};
  REQUIRE_FALSE(parse_bench_args(2, stray).error.empty());
  const char* bad[] = {"bench", "--acks", "2"};
  REQUIRE_FALSE(parse_bench_args(3, bad).error.empty());
  const char* bad_mode[] = {"bench", "--mode", "fly"};
  REQUIRE_FALSE(parse_bench_args(3, bad_mode).error.empty());
  const char* rt_small[] = {"bench", "--mode", "round-trip", "--message-size", "8"};
  REQUIRE_FALSE(parse_bench_args(5, rt_small).error.empty());
  const char* open[] = {"bench", "--rate", "2000", "--duration", "500ms"};
  const auto o = parse_bench_args(5, open);
  REQUIRE(o.error.empty());
  REQUIRE(o.config.rate == 2000.0);
  REQUIRE(o.config.duration_s == 0.5);
}

TEST_CASE("CSV and JSON carry the same fields", "[bench][report]") {
  bench_result r;
  r.config.bootstrap = "a:1,b:2";  // a comma inside a cell must be quoted
  r.config.schedule = {{0, 8}, {5, 64}};
  r.messages = 1000;
  r.failed = 2;
  r.bytes = 256000;
  r.seconds = 2;
  r.msgs_per_sec = 500;
  r.latency.p99 = 5370;
  r.error = "say \"hi\"";
  const auto header = split_csv(csv_header());
  const auto row = split_csv(to_csv_row(r));
  REQUIRE(header.size() == row.size());
  const auto j = nlohmann::json::parse(to_json(r));
  REQUIRE(j.size() == header.size());
  for (size_t i = 0; i < header.size(); ++i) REQUIRE(j.contains(header[i]));
  for (const char* k : {"messages", "failed", "bytes", "msgs_per_sec", "mb_per_sec", "p50_us", "p90_us", "p95_us",
                        "p99_us", "p999_us", "max_us", "concurrency", "message_size", "acks", "duration_s", "mode"}) {
    REQUIRE(j.contains(k));
  }
  auto col = [&](const std::string& k) {
    return row[static_cast<size_t>(std::find(header.begin(), header.end(), k) - header.begin())];
  };
  REQUIRE(col("bootstrap") == "a:1,b:2");
  REQUIRE(col("error") == "say \"hi\"");
  REQUIRE(col("messages") == "1000");
  REQUIRE(j["p99_us"] == 5370.0);
  REQUIRE(j["schedule"] == "0:8;5:64");
  REQUIRE(to_text(r).find("say") != std::string::npos);
}

// In-process runs against librdkafka's mock cluster: the real client path end to end.
namespace {
struct mock_cluster {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* mc = nullptr;
  mock_cluster() {
    char err[256];
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    mc = rd_kafka_mock_cluster_new(rk, 1);
    rd_kafka_mock_topic_create(mc, "bench-test", 3, 1);
  }
  ~mock_cluster() {
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
  }
  std::string bootstrap() const { return rd_kafka_mock_cluster_bootstraps(mc); }
};
}  // namespace

TEST_CASE("closed-loop produce against the mock cluster", "[bench][mock]") {
  mock_cluster mock;
  bench_config cfg;
  cfg.bootstrap = mock.bootstrap();
  cfg.topic = "bench-test";
  cfg.concurrency = 8;
  cfg.producers = 2;
  cfg.duration_s = 1;
  cfg.warmup_s = 0.3;
  cfg.progress_interval_s = 0.25;
  std::vector<bench_progress> progress;
  const auto r = run_bench(cfg, [&](const bench_progress& p) { progress.push_back(p); });
  INFO(r.error);
  REQUIRE(r.error.empty());
  REQUIRE(r.topic_partitions == 3);
  REQUIRE(r.messages > 100);
  REQUIRE(r.failed == 0);
  REQUIRE(r.bytes == r.messages * 256);
  REQUIRE(r.seconds >= 1.0);
  REQUIRE(r.seconds < 1.5);
  REQUIRE(r.latency.p50 > 0);
  REQUIRE(r.latency.p99 >= r.latency.p50);
  REQUIRE(r.latency.max >= r.latency.p999);
  REQUIRE(progress.size() >= 4);
  REQUIRE(progress.front().warming_up);
  REQUIRE_FALSE(progress.back().warming_up);
  REQUIRE(progress.back().messages == r.messages);  // the last tick comes after the drain
  REQUIRE(progress.back().active_senders == 8);
}

TEST_CASE("open loop and round-trip against the mock cluster", "[bench][mock]") {
  mock_cluster mock;
  bench_config cfg;
  cfg.bootstrap = mock.bootstrap();
  cfg.topic = "bench-test";
  cfg.duration_s = 1;
  cfg.progress_interval_s = 0;
  SECTION("open loop sends at the asked rate") {
    cfg.rate = 2000;
    const auto r = run_bench(cfg, {});
    REQUIRE(r.error.empty());
    REQUIRE(r.failed == 0);
    REQUIRE(r.messages == Approx(2000).margin(60));
  }
  SECTION("round-trip reports e2e latency for every message") {
    cfg.mode = bench_mode::round_trip;
    cfg.concurrency = 4;
    const auto r = run_bench(cfg, {});
    REQUIRE(r.error.empty());
    REQUIRE(r.messages > 100);
    REQUIRE(r.received >= r.messages);
    REQUIRE(r.e2e_latency.p50 > 0);
  }
}

TEST_CASE("an unreachable broker is reported, not waited on forever", "[bench][mock]") {
  bench_config cfg;
  cfg.bootstrap = "127.0.0.1:1";
  cfg.duration_s = 1;
  const auto t = std::chrono::steady_clock::now();
  const auto r = run_bench(cfg, {});
  REQUIRE_FALSE(r.error.empty());
  REQUIRE(std::chrono::steady_clock::now() - t < std::chrono::seconds(15));
}
