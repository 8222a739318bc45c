// `kairo-lab disk`: the command line around run_disk_probe (disk_probe.cc).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "experiments/lab/disk_probe.h"

namespace lab {
namespace {

namespace po = boost::program_options;

constexpr int exit_failed = 1;
constexpr int exit_interrupted = 130;

std::atomic<bool> interrupted{false};

extern "C" void on_disk_signal(int) { interrupted.store(true); }

std::vector<disk_mode> parse_modes(const std::string& list) {
  std::vector<disk_mode> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto m = parse_disk_mode(item);
    if (!m) throw std::invalid_argument("--modes: '" + item + "' is not a mode; use append, overwrite, dsync, direct");
    out.push_back(*m);
  }
  if (out.empty()) throw std::invalid_argument("--modes: give at least one mode, e.g. append,overwrite");
  return out;
}

// On a terminal one line rewritten in place per batch; elsewhere (a log) a line per round.
class progress_printer {
 public:
  progress_printer() : tty_(::isatty(2) == 1), start_(std::chrono::steady_clock::now()) {}

  void operator()(const disk_probe_progress& p) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = p.batches_done ? elapsed / p.batches_done * (p.batches_total - p.batches_done) : 0;
    const bool round_end = p.batches_done % (p.batches_total / p.rounds) == 0;
    if (!tty_ && !round_end) return;
    std::fprintf(stderr, "%s[round %d/%d] %s %zu B  %d/%d batches, %.0f s, about %.0f s left%s", tty_ ? "\r\033[K" : "",
                 p.round, p.rounds, to_string(p.mode), p.size, p.batches_done, p.batches_total, elapsed, eta,
                 tty_ ? "" : "\n");
    if (tty_ && p.batches_done == p.batches_total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

int disk_main(int argc, const char* const* argv) {
  po::options_description opts("kairo-lab disk options");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help and exit")
    ("dir", po::value<std::string>()->default_value("."), "the directory whose disk is probed; the probe's files go in "
                                                          "a fresh kairo-disk-probe-* folder inside it, removed at the end")
    ("sizes", po::value<std::string>()->default_value("4096,16384,65536,262144"), "bytes made durable per operation, "
                                                                                  "comma-separated (4k = 4096)")
    ("modes", po::value<std::string>()->default_value("append,overwrite,dsync,direct"), "which of append, overwrite, "
                                                                                        "dsync, direct")
    ("rounds", po::value<int>()->default_value(3), "interleaved rounds (every mode and size in each)")
    ("count", po::value<int>()->default_value(500), "timed operations per mode, size and round")
    ("json", po::value<std::string>(), "also write the result as JSON to this file");
  // clang-format on
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: kairo-lab disk [options]\n\n"
                 "Measures how long making N bytes durable takes on the disk of --dir, for the ways a log can do it:\n"
                 "  append     write() to a growing O_APPEND file + fdatasync (the inode's size is journaled too)\n"
                 "  overwrite  pwrite into a zero-filled, synced file + fdatasync (data only: a preallocated log)\n"
                 "  dsync      the same overwrite through an O_DSYNC fd: one pwrite, no fdatasync\n"
                 "  direct     O_DIRECT|O_DSYNC overwrite, 4096-aligned (unsupported on tmpfs and the like)\n"
                 "The modes are interleaved in rounds so machine noise hits them alike; per mode and size it prints\n"
                 "p50, p99, mean and each round's p50 (the spread). Progress goes to stderr.\n\n"
              << opts << "\n";
    return 0;
  }
  po::notify(vm);
  disk_probe_config cfg;
  cfg.dir = vm["dir"].as<std::string>();
  cfg.sizes = parse_disk_sizes(vm["sizes"].as<std::string>());
  cfg.modes = parse_modes(vm["modes"].as<std::string>());
  cfg.rounds = vm["rounds"].as<int>();
  cfg.count = vm["count"].as<int>();
  if (cfg.rounds < 1 || cfg.count < 1) throw std::invalid_argument("--rounds and --count must be at least 1");

  // Ctrl-C stops after the current operation; what finished is printed and the files removed.
  struct sigaction sa {};
  sa.sa_handler = on_disk_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  progress_printer progress;
  disk_probe_result r;
  try {
    r = run_disk_probe(cfg, std::ref(progress), &interrupted);
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "kairo-lab disk: %s\n", e.what());
    return exit_failed;
  }
  std::printf("%s", disk_probe_table(r).c_str());
  std::fflush(stdout);
  if (vm.count("json")) {
    const std::string path = vm["json"].as<std::string>();
    std::ofstream out(path);
    out << disk_probe_json(r).dump(2) << "\n";
    out.close();
    if (!out) {
      std::fprintf(stderr, "kairo-lab disk: cannot write %s\n", path.c_str());
      return exit_failed;
    }
  }
  return r.interrupted ? exit_interrupted : 0;
}

}  // namespace lab
