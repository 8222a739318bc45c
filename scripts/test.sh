#!/usr/bin/env bash
# Installs what is missing, checks the formatting, builds everything (Release, with the TSan test
# variants) and runs every test: a short run of every fuzz target (its own clang build in build-fuzz), then unit
# tests, sanitizer runs and integration tests against a real kairo process with third-party
# clients. Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/format.sh --check  # the house .clang-format; `bash scripts/format.sh` fixes drift
bash scripts/fuzz.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKAIRO_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)"
cd build
exec ctest --output-on-failure -j2 --timeout 600
