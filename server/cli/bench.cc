#include "server/cli/bench.h"

#include <cstdio>

namespace server::cli {

int bench_main(int, const char* const*) {
  std::fprintf(stderr, "kairo bench: being built (issue 5)\n");
  return 2;
}

bench_result run_bench(const bench_config&, const std::function<void(const bench_progress&)>&, const std::atomic<bool>*) {
  return {};
}

}  // namespace server::cli
