// kairo: a Kafka-compatible broker whose produce path tunes its own batching.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>

#include <boost/program_options/errors.hpp>

#include "server/app.h"
#include "server/config.h"

namespace {

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: kairo <command> [options]\n\n"
               "commands:\n"
               "  serve       run the broker (Kafka on 127.0.0.1:9092, metrics/admin on 127.0.0.1:9644)\n\n"
               "Run `kairo <command> --help` for the options of a command. The load generator, the experiment\n"
               "runner and the simulator are a separate program: `kairo-lab bench|experiment|sim`.\n");
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
    std::printf("kairo 0.1.0\n");
    return 0;
  }
  try {
    if (cmd == "serve") {
      auto cfg = server::parse_serve_args(argc - 1, argv + 1);
      if (!cfg) return 0;
      return server::run_serve(*cfg);
    }
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "kairo %s: %s (try `kairo %s --help`)\n", cmd.c_str(), e.what(), cmd.c_str());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "kairo %s: %s\n", cmd.c_str(), e.what());
    return 2;
  }
  if (cmd == "bench" || cmd == "experiment" || cmd == "sim") {
    std::fprintf(stderr, "kairo: '%s' is a kairo-lab command; run `kairo-lab %s` (build/experiments/kairo-lab)\n",
                 cmd.c_str(), cmd.c_str());
    return 2;
  }
  std::fprintf(stderr, "kairo: unknown command '%s'\n\n", cmd.c_str());
  usage(stderr);
  return 2;
}
