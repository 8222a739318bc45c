#include <catch2/catch.hpp>

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <string>

#include "experiments/lab/disk_probe.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {

// A fresh directory for one test, removed after it.
struct temp_dir {
  std::string path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "kairo-disk-probe-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  bool empty() const { return fs::is_empty(path); }
};

disk_probe_config tiny(const std::string& dir) {
  disk_probe_config c;
  c.dir = dir;
  c.sizes = {4096, 6000};
  c.rounds = 2;
  c.count = 3;
  return c;
}

}  // namespace

TEST_CASE("the disk probe measures every mode and size and leaves no file behind", "[lab][disk_probe]") {
  temp_dir dir;
  const auto cfg = tiny(dir.path);
  int progress_calls = 0;
  const auto r = run_disk_probe(cfg, [&](const disk_probe_progress& p) {
    ++progress_calls;
    CHECK(p.batches_done <= p.batches_total);
  });
  CHECK(progress_calls == 2 * 2 * 4);
  CHECK_FALSE(r.interrupted);
  CHECK(r.dir == fs::canonical(dir.path).string());
  CHECK_FALSE(r.filesystem.empty());
  REQUIRE(r.cells.size() == 4 * 2);
  std::set<std::string> modes;
  for (auto& c : r.cells) {
    INFO(to_string(c.mode) << " " << c.size << " " << c.note);
    modes.insert(to_string(c.mode));
    if (c.mode == disk_mode::direct) CHECK(c.write_size % 4096 == 0);
    else CHECK(c.write_size == c.size);
    CHECK(c.write_size >= c.size);
    if (!c.supported) {  // only O_DIRECT may be refused (tmpfs)
      CHECK(c.mode == disk_mode::direct);
      CHECK_FALSE(c.note.empty());
      continue;
    }
    CHECK(c.samples == cfg.rounds * cfg.count);
    CHECK(c.p50_us > 0);
    CHECK(c.p50_us <= c.p99_us);
    CHECK(c.p99_us <= c.max_us);
    CHECK(c.mean_us > 0);
    CHECK(c.round_p50_us.size() == static_cast<size_t>(cfg.rounds));
    for (double v : c.round_p50_us) CHECK(v > 0);
  }
  CHECK(modes == std::set<std::string>{"append", "overwrite", "dsync", "direct"});
  REQUIRE(r.find(disk_mode::overwrite, 4096) != nullptr);
  CHECK(r.find(disk_mode::overwrite, 12345) == nullptr);
  CHECK(dir.empty());

  const auto j = disk_probe_json(r);
  CHECK(j.at("cells").size() == r.cells.size());
  CHECK(j.at("cells")[0].contains("round_p50_us"));
  CHECK(disk_probe_table(r).find("overwrite") != std::string::npos);
  CHECK(disk_probe_markdown(r).find("| overwrite | 4096 |") != std::string::npos);
}

TEST_CASE("a stopped disk probe says so and removes its files", "[lab][disk_probe]") {
  temp_dir dir;
  std::atomic<bool> stop{false};
  auto cfg = tiny(dir.path);
  cfg.modes = {disk_mode::overwrite};
  cfg.rounds = 3;
  const auto r = run_disk_probe(
      cfg, [&](const disk_probe_progress& p) { stop.store(p.batches_done == 1); }, &stop);
  CHECK(r.interrupted);
  REQUIRE(r.find(disk_mode::overwrite, 4096) != nullptr);
  CHECK(r.find(disk_mode::overwrite, 4096)->samples == cfg.count);
  CHECK(r.find(disk_mode::overwrite, 6000)->samples == 0);
  CHECK(dir.empty());
}

TEST_CASE("the disk probe refuses what it cannot use, in words", "[lab][disk_probe]") {
  temp_dir dir;
  auto cfg = tiny(dir.path + "/missing");
  CHECK_THROWS_WITH(run_disk_probe(cfg), Catch::Contains("is not a directory"));
  cfg = tiny(dir.path);
  cfg.count = 0;
  CHECK_THROWS_AS(run_disk_probe(cfg), std::invalid_argument);

  CHECK(parse_disk_sizes("4096,64k") == std::vector<size_t>{4096, 65536});
  CHECK_THROWS_WITH(parse_disk_sizes("4096,x"), Catch::Contains("'x'"));
  CHECK_THROWS(parse_disk_sizes("0"));
  CHECK(parse_disk_mode("dsync") == disk_mode::dsync);
  CHECK_FALSE(parse_disk_mode("fsync"));
}
