// kairo-lab: the tools beside the broker that load it, run declared experiments on it and
// simulate its produce path. It talks to kairo only over Kafka, HTTP and process boundaries, so
// the broker binary carries none of it (nor librdkafka).
#include <cstdio>

#include "experiments/lab/bench.h"
#include "experiments/lab/disk_probe.h"
#include "experiments/lab/experiment.h"
#include "experiments/lab/oracle.h"
#include "experiments/lab/sim.h"
#include "util/command_line.h"

namespace {

void usage(std::FILE* out) {
  std::fprintf(
      out,
      "usage: kairo-lab <command> [options]\n\n"
      "commands:\n"
      "  bench       load a broker with librdkafka producers/consumers and report rate and latency\n"
      "  disk        measure how long making N bytes durable takes on a directory's disk (append, overwrite, "
      "O_DSYNC, O_DIRECT)\n"
      "  experiment  run a declared experiment (experiments/*.json): fresh servers, bench, metrics, plots\n"
      "  oracle      simulate the tuner's grid under fixed policies, profiles and auto: auto's regret against the "
      "best fixed policy\n"
      "  sim         simulate producers, the pipeline and the WAL to design and check the tuner\n\n"
      "Run `kairo-lab <command> --help` for the options of a command. The broker itself is `kairo serve`.\n");
}

}  // namespace

int main(int argc, char** argv) {
  return util::run_commands(argc, argv, "kairo-lab", "0.1.0", usage,
                            {{"bench", lab::bench_main},
                             {"disk", lab::disk_main},
                             {"experiment", lab::experiment_main},
                             {"oracle", lab::oracle::oracle_main},
                             {"sim", lab::sim_main}},
                            {{"serve", "kairo"}});
}
