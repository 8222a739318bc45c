#!/usr/bin/env bash
# Installs what is missing, builds kairo (Release) and runs the broker with embedded defaults:
# data in ./data, Kafka on 127.0.0.1:9092, metrics/admin on 127.0.0.1:9644. Extra arguments go
# to `kairo serve` (see `kairo serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target kairo -j"$(nproc)"
exec ./build/server/kairo serve "$@"
