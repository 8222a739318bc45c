// kairo-lab: the tools beside the broker that load it, run declared experiments on it and
// simulate its produce path. It talks to kairo only over Kafka, HTTP and process boundaries, so
// the broker binary carries none of it (nor librdkafka).
#include <cstdio>
#include <stdexcept>
#include <string>

#include <boost/program_options/errors.hpp>

#include "experiments/lab/bench.h"
#include "experiments/lab/experiment.h"
#include "experiments/lab/sim.h"

namespace {

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: kairo-lab <command> [options]\n\n"
               "commands:\n"
               "  bench       load a broker with librdkafka producers/consumers and report rate and latency\n"
               "  experiment  run a declared experiment (experiments/*.json): fresh servers, bench, metrics, plots\n"
               "  sim         simulate producers, the pipeline and the WAL to design and check the tuner\n\n"
               "Run `kairo-lab <command> --help` for the options of a command. The broker itself is `kairo serve`.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("kairo-lab 0.1.0\n");
    return 0;
  }
  try {
    if (cmd == "bench") return lab::bench_main(argc - 1, argv + 1);
    if (cmd == "experiment") return lab::experiment_main(argc - 1, argv + 1);
    if (cmd == "sim") return lab::sim_main(argc - 1, argv + 1);
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "kairo-lab %s: %s (try `kairo-lab %s --help`)\n", cmd.c_str(), e.what(), cmd.c_str());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "kairo-lab %s: %s\n", cmd.c_str(), e.what());
    return 2;
  }
  std::fprintf(stderr, "kairo-lab: unknown command '%s'\n\n", cmd.c_str());
  usage(stderr);
  return 2;
}
