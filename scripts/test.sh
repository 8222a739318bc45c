#!/usr/bin/env bash
# Installs what is missing, builds everything (Release, with the TSan test variants) and runs
# every test: unit tests, sanitizer runs and integration tests against a real kairo process with
# third-party clients. Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKAIRO_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)"
cd build
exec ctest --output-on-failure -j2 --timeout 600
