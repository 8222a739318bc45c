#!/usr/bin/env bash
# Installs every Debian package kairo needs to build, test, benchmark and plot, and the npm
# packages of the Node.js integration tests. chromium: the live admin page's test renders it headless.
# Idempotent: packages already present are left alone; apt-get runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake g++ clang libclang-rt-14-dev clang-format pkg-config
  libboost-dev libboost-program-options-dev
  libspdlog-dev libfmt-dev libeigen3-dev prometheus-cpp-dev
  catch2 libexpected-dev librdkafka-dev libbenchmark-dev nlohmann-json3-dev
  zlib1g-dev
  kcat python3 python3-kafka python3-confluent-kafka
  prometheus gnuplot-nox curl procps
  chromium
  golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# The Node.js clients of the integration tests (kafkajs, @platformatic/kafka), pinned.
bash "$(dirname "${BASH_SOURCE[0]}")/setup-node.sh"
