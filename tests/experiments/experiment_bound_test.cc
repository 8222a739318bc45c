#include <catch2/catch.hpp>

#include <cmath>

#include "experiments/lab/experiment_bound.h"
#include "experiments/lab/experiment_output.h"

using namespace lab;
using namespace lab::experiment;

namespace {

disk_probe_result probe(std::vector<std::pair<size_t, double>> overwrite_p50s) {
  disk_probe_result r;
  for (auto [size, p50] : overwrite_p50s) {
    disk_probe_cell c;
    c.mode = disk_mode::overwrite;
    c.size = c.write_size = size;
    c.samples = 10;
    c.p50_us = p50;
    r.cells.push_back(c);
    c.mode = disk_mode::append;  // never used for F
    c.p50_us = 10 * p50;
    r.cells.push_back(c);
  }
  return r;
}

spec two_targets(bool with_mock) {
  spec s;
  s.targets.push_back({});
  s.targets.back().label = "auto";
  if (with_mock) {
    s.targets.push_back({});
    s.targets.back().label = "mock";
    s.targets.back().mock = true;
  }
  s.storage = {"native", "cloud", "tmpfs"};
  return s;
}

point_result row(const std::string& target, bool mock, const std::string& storage, int concurrency, double msgs,
                 double p50_us) {
  point_result r;
  r.target = target;
  r.mock = mock;
  r.status = "ok";
  r.pt.storage = storage;
  r.pt.concurrency = concurrency;
  r.pt.message_size = 256;
  r.bench.msgs_per_sec = msgs;
  r.bench.latency.p50 = p50_us;
  return r;
}

}  // namespace

TEST_CASE("the bound is C / (R + F) with F at the smallest probed size holding a group", "[lab][bound]") {
  std::vector<disk_yardstick> disks(2);
  disks[0].root = "native";
  disks[0].start = probe({{4096, 200}, {16384, 300}});
  disks[0].end = probe({{4096, 220}, {16384, 340}});
  disks[1].root = "tmpfs";
  disks[1].start = probe({{4096, 2}, {16384, 4}});

  std::vector<point_result> rows;
  rows.push_back(row("auto", false, "native", 1, 2000, 330));
  rows.back().server.bytes_per_group = 300;
  rows.push_back(row("auto", false, "native", 64, 100000, 600));
  rows.back().server.bytes_per_group = 10000;  // -> the 16 KiB probe
  rows.push_back(row("auto", false, "cloud", 1, 700, 1400));
  rows.push_back(row("auto", false, "tmpfs", 1, 8000, 110));  // bytes unknown: 4 KiB
  rows.push_back(row("mock", true, "none", 1, 9000, 100));
  rows.push_back(row("mock", true, "none", 64, 400000, 150));

  fill_bounds(two_targets(true), rows, disks);
  const auto& c1 = rows[0].bound;
  CHECK(c1.r_us == 100);
  CHECK(c1.f_size == 4096);
  CHECK(c1.f_probe_us == Approx(210));  // the mean of the start and end probes
  CHECK(c1.f_delay_us == 0);
  CHECK(c1.bound_msgs_per_sec == Approx(1e6 / 310));
  CHECK(c1.fraction_of_bound == Approx(2000 / (1e6 / 310)));
  CHECK(c1.p50_target_us == Approx(310));

  const auto& c64 = rows[1].bound;
  CHECK(c64.f_size == 16384);
  CHECK(c64.f_us == Approx(320));
  CHECK(c64.bound_msgs_per_sec == Approx(64 * 1e6 / 470));
  CHECK(std::isnan(c64.p50_target_us));  // concurrency 1 only

  CHECK(rows[2].bound.f_delay_us == Approx(1000));  // cloud's simulated 1 ms
  CHECK(rows[2].bound.p50_target_us == Approx(100 + 210 + 1000));

  CHECK(rows[3].bound.f_probe_us == Approx(2));  // tmpfs points use the tmpfs probe
  CHECK(rows[3].bound.note.find("4 KiB assumed") != std::string::npos);

  CHECK(std::isnan(rows[4].bound.bound_msgs_per_sec));  // the mock is R itself
}

TEST_CASE("without a mock target the bound is empty and says why", "[lab][bound]") {
  std::vector<disk_yardstick> disks(1);
  disks[0].root = "native";
  disks[0].start = probe({{4096, 200}});
  std::vector<point_result> rows{row("auto", false, "native", 1, 2000, 330)};
  fill_bounds(two_targets(false), rows, disks);
  CHECK(std::isnan(rows[0].bound.bound_msgs_per_sec));
  CHECK(rows[0].bound.f_us == Approx(200));  // F is still reported
  CHECK(rows[0].bound.note.find("no mock target") != std::string::npos);

  const std::string header = points_csv_header();
  for (const char* col : {"bound_msgs_per_sec", "fraction_of_bound", "bound_r_us", "bound_f_us", "cpu_seconds",
                          "cpu_us_per_message", "p50_target_us"})
    CHECK(header.find(col) != std::string::npos);
}

TEST_CASE("storage classes: simulated delays and tmpfs", "[lab][bound]") {
  CHECK(configured_sync_delay_ms("native") == 0);
  CHECK(configured_sync_delay_ms("tmpfs") == 0);
  CHECK(configured_sync_delay_ms("cloud") == 1);
  CHECK(configured_sync_delay_ms("hdd") == 5);
  CHECK(configured_sync_delay_ms("2ms") == 2);
  CHECK(configured_sync_delay_ms("1ms\u00b120%") == 1);
  CHECK(configured_sync_delay_ms("500us") == Approx(0.5));
  CHECK(std::isnan(configured_sync_delay_ms("fast")));
  CHECK(sync_delay_arg("tmpfs") == "native");
  CHECK(sync_delay_arg("hdd") == "hdd");

  nlohmann::json doc = {{"name", "x"},
                        {"targets", {{{"label", "a"}}}},
                        {"storage", {"native", "tmpfs"}},
                        {"phases", {{{"duration_s", 1}, {"storage", "tmpfs"}}}}};
  CHECK_THROWS_WITH(parse_spec(doc, false), Catch::Contains("tmpfs cannot be a phase's storage"));
  doc.erase("phases");
  CHECK(parse_spec(doc, false).storage == std::vector<std::string>{"native", "tmpfs"});
}
