// kairo: a Kafka-compatible broker whose produce path tunes its own batching.
#include <cstdio>

#include "server/admin_cli.h"
#include "server/app.h"
#include "server/config.h"
#include "util/command_line.h"

namespace {

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: kairo <command> [options]\n\n"
               "commands:\n"
               "  serve       run the broker (Kafka on 127.0.0.1:9092, metrics/admin on 127.0.0.1:9644)\n"
               "  topics      list, describe, create, delete, alter topics (through the admin API)\n"
               "  groups      list and describe consumer groups, their lag\n"
               "  policy      show the produce policy, pin a profile or knobs, hand it back to the tuner\n"
               "  tuner       the tuner's recent decisions and changes, with their reasons\n\n"
               "Run `kairo <command> --help` for the options of a command. The load generator, the experiment\n"
               "runner and the simulator are a separate program: `kairo-lab bench|experiment|sim`.\n");
}

}  // namespace

int main(int argc, char** argv) {
  auto serve = [](int n, char** args) {
    auto cfg = server::parse_serve_args(n, args);
    return cfg ? server::run_serve(*cfg) : 0;
  };
  return util::run_commands(argc, argv, "kairo", "0.1.0", usage,
                            {{"serve", serve},
                             {"topics", server::run_topics_command},
                             {"groups", server::run_groups_command},
                             {"policy", server::run_policy_command},
                             {"tuner", server::run_tuner_command}},
                            {{"bench", "kairo-lab"}, {"experiment", "kairo-lab"}, {"sim", "kairo-lab"}});
}
