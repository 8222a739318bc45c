#!/usr/bin/env bash
# Installs the Node.js clients of the integration tests (tests/integration/node: kafkajs and
# @platformatic/kafka, pinned by package-lock.json) into tests/integration/node/node_modules.
# Idempotent: runs `npm ci` only when node_modules is missing or older than package-lock.json.
set -euo pipefail

node_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/node"
lock="$node_dir/package-lock.json"
# npm writes this file last on every successful install, so its age is the install's age.
stamp="$node_dir/node_modules/.package-lock.json"

if ! command -v npm >/dev/null 2>&1; then
  echo "setup-node: npm not found; install Node.js (>= 20.19.4) and npm first" >&2
  exit 1
fi
if [ ! -f "$lock" ]; then
  echo "setup-node: $lock is missing; it pins the test clients' versions" >&2
  exit 1
fi

if [ -f "$stamp" ] && [ ! "$stamp" -ot "$lock" ]; then
  echo "setup-node: node_modules up to date"
else
  echo "setup-node: npm ci in $node_dir"
  (cd "$node_dir" && npm ci --no-audit --no-fund)
fi
