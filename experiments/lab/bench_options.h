#pragma once
// Command-line parsing for `kairo-lab bench` (exposed for tests and for the experiment runner).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/lab/bench.h"

namespace lab {

// "30s", "500ms", "2m", "1.5h", "250us", or plain seconds ("30", "0.5"). nullopt when malformed
// or negative.
std::optional<double> parse_duration_s(std::string_view text);

// "0:16,5s:128,10:64" -> steps (at_s, concurrency); times accept parse_duration_s syntax.
std::optional<std::vector<bench_config::load_step>> parse_schedule(std::string_view text);
std::string format_schedule(const std::vector<bench_config::load_step>& schedule);  // "0:16;5:128"

std::string_view mode_name(bench_mode m);

// Checks a config for values the bench cannot run with; empty when fine, else what to change.
std::string validate(const bench_config& cfg);

struct bench_cli {
  bench_config config;
  std::string json_path;  // --json FILE
  std::string csv_path;   // --csv FILE (header written when the file is new or empty)
  bool help = false;
  std::string error;  // usage error, in words
};

// argv[0] is the subcommand name ("bench"); progress_interval_s defaults to 5 s here.
bench_cli parse_bench_args(int argc, const char* const* argv);
std::string bench_usage();

}  // namespace lab
