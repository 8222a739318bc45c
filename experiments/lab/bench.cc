// `kairo-lab bench`: the command line around run_bench (bench_runner.cc). The load itself is in
// bench_clients.cc, the formats in bench_report.cc.
#include "experiments/lab/bench.h"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "experiments/lab/bench_options.h"

namespace lab {

namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_signal(int) { interrupted.store(true); }

void print_progress(const bench_progress& p) {
  std::printf(
      "[%s%7.1fs] %10.0f msg/s %8.2f MB/s | total %llu failed %llu | p99 %.3f ms | interval p50 %.3f p99 %.3f ms",
      p.warming_up ? "warm-up " : "", p.elapsed_s, p.msgs_per_sec, p.mb_per_sec,
      static_cast<unsigned long long>(p.messages), static_cast<unsigned long long>(p.failed), p.p99_us / 1e3,
      p.interval_p50_us / 1e3, p.interval_p99_us / 1e3);
  if (p.active_senders > 0) std::printf(" | senders %d", p.active_senders);
  std::printf("\n");
  std::fflush(stdout);
}

bool write_file(const std::string& path, const std::string& text, bool append) {
  std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::fprintf(stderr, "kairo-lab bench: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

}  // namespace

int bench_main(int argc, const char* const* argv) {
  const bench_cli cli = parse_bench_args(argc, argv);
  if (cli.help) {
    std::printf("%s", bench_usage().c_str());
    return 0;
  }
  if (!cli.error.empty()) {
    std::fprintf(stderr, "kairo-lab bench: %s\n(see kairo-lab bench --help)\n", cli.error.c_str());
    return 2;
  }
  // Ctrl-C ends the measured window early; the result so far is still reported.
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const bench_result r = run_bench(cli.config, print_progress, &interrupted);
  std::printf("%s", to_text(r).c_str());
  std::fflush(stdout);
  bool ok = r.error.empty();
  if (!cli.json_path.empty()) ok = write_file(cli.json_path, to_json(r) + "\n", false) && ok;
  if (!cli.csv_path.empty()) {
    std::error_code ec;
    const bool fresh = !std::filesystem::exists(cli.csv_path, ec) || std::filesystem::file_size(cli.csv_path, ec) == 0;
    ok = write_file(cli.csv_path, (fresh ? csv_header() + "\n" : std::string()) + to_csv_row(r) + "\n", true) && ok;
  }
  return ok ? 0 : 1;
}

}  // namespace lab
