#include "server/cli/experiment.h"

#include <cstdio>

namespace server::cli {

int experiment_main(int, const char* const*) {
  std::fprintf(stderr, "kairo experiment: being built (issue 5)\n");
  return 2;
}

}  // namespace server::cli
