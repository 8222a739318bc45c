#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, every library instrumented: docs/fuzzing.md) and runs each
# over its committed seed corpus. Exits nonzero when any target crashes, trips a sanitizer or an
# invariant, times out on one input or runs out of memory; the input that did it is kept.
#
#   bash scripts/fuzz.sh                  short run: a bounded number of executions per target
#                                         (about 1-2 minutes for all of them on 2 cores)
#   bash scripts/fuzz.sh --long           >= 10,000,000 executions per target, one after another,
#                                         printing executions, exec/s, cov and ft of each
#   bash scripts/fuzz.sh [--long] wal_recovery_fuzz catalog_fuzz   only these targets
#
# Environment:
#   KAIRO_FUZZ_BUILD     build directory (default: build-fuzz at the repository root)
#   KAIRO_FUZZ_JOBS      parallel compile jobs (default: nproc)
#   KAIRO_FUZZ_RUNS      executions per target, overriding the table below (and --long's 10 M)
#   KAIRO_FUZZ_MAX_TIME  seconds per target at most (default: 60 short, 1200 long)
# Inputs the fuzzer found interesting go to $KAIRO_FUZZ_BUILD/fuzz-work/<target>/corpus, never
# into tests/fuzz/corpus; a crashing input to $KAIRO_FUZZ_BUILD/fuzz-work/<target>/crash-*. To
# keep a finding as a regression seed, copy it into tests/fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

long=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --long) long=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "fuzz: unknown option $arg (try --help)" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done

# Executions per target in the short run, sized by each target's speed (docs/fuzzing.md has the
# exec/s): together about a minute and a half on 2 cores.
declare -A short_runs=(
  [protocol_fuzz]=400000
  [framing_fuzz]=300000
  [record_batch_fuzz]=500000
  [wal_recovery_fuzz]=20000
  [catalog_fuzz]=100000
  [admin_http_fuzz]=60000
)
all_targets=(protocol_fuzz framing_fuzz record_batch_fuzz wal_recovery_fuzz catalog_fuzz admin_http_fuzz)
if [ ${#targets[@]} -eq 0 ]; then targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
  if [ -z "${short_runs[$t]:-}" ]; then
    echo "fuzz: no target $t; the targets are ${all_targets[*]}" >&2
    exit 2
  fi
done

for tool in clang clang++ cmake; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz: $tool is missing; run bash scripts/setup.sh (Debian packages clang, libclang-rt-14-dev, cmake)" >&2
    exit 1
  fi
done

build=${KAIRO_FUZZ_BUILD:-$root/build-fuzz}
jobs=${KAIRO_FUZZ_JOBS:-$(nproc)}
start=$(date +%s)
mkdir -p "$build"
echo "fuzz: configuring and building in $build (-j$jobs)"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DKAIRO_FUZZ=ON -DKAIRO_TESTS=OFF -DKAIRO_BENCH=OFF >"$build/fuzz-configure.log" 2>&1 || {
  cat "$build/fuzz-configure.log" >&2
  echo "fuzz: configure failed (is libclang-rt-14-dev installed? bash scripts/setup.sh)" >&2
  exit 1
}
cmake --build "$build" --target "${targets[@]}" -j"$jobs" >"$build/fuzz-build.log" 2>&1 || {
  tail -50 "$build/fuzz-build.log" >&2
  echo "fuzz: build failed; the whole log is $build/fuzz-build.log" >&2
  exit 1
}
echo "fuzz: built in $(( $(date +%s) - start )) s"

if [ "$long" = 1 ]; then max_time=${KAIRO_FUZZ_MAX_TIME:-1200}; else max_time=${KAIRO_FUZZ_MAX_TIME:-60}; fi
failed=()
printf '%-20s %12s %8s %9s %8s %8s %10s\n' target execs seconds exec/s cov ft corpus
for t in "${targets[@]}"; do
  if [ "$long" = 1 ]; then runs=${KAIRO_FUZZ_RUNS:-10000000}; else runs=${KAIRO_FUZZ_RUNS:-${short_runs[$t]}}; fi
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus"
  log="$work/$([ "$long" = 1 ] && echo long || echo short).log"
  seeds="$root/tests/fuzz/corpus/$t"
  dict=()
  if [ -f "$root/tests/fuzz/$t.dict" ]; then dict=(-dict="$root/tests/fuzz/$t.dict"); fi
  t0=$(date +%s)
  # -timeout: one input running 10 s is a hang; -rss_limit_mb: the fuzzer's memory is bounded.
  set +e
  "$build/tests/fuzz/$t" -runs="$runs" -max_total_time="$max_time" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" "${dict[@]}" "$work/corpus" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - t0 ))
  # The last status line: "#N  DONE  cov: C ft: F corp: U/S lim: L exec/s: E rss: R".
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
  printf '%-20s %12s %8s %9s %8s %8s %10s\n' "$t" "${execs:-?}" "$secs" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $rc); log $log; inputs:" >&2
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* >&2 2>/dev/null || true
    grep -E 'ERROR: |SUMMARY: |runtime error|Assertion|deadly signal' "$log" | head -5 >&2 || true
  elif [ "$long" = 1 ] && [ -n "${execs:-}" ] && [ "$execs" -lt "$runs" ]; then
    echo "fuzz: $t stopped at the ${max_time}s cap after $execs of $runs executions" >&2
  fi
done
echo "fuzz: done in $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
