#!/usr/bin/env bash
# Formats kairo's C++ sources with clang-format 14 and the style in .clang-format at the repo root.
#
#   bash scripts/format.sh                 reformat every project .cc/.h file in place
#   bash scripts/format.sh --check         change nothing: list the files that would change, with
#                                          the start of each diff; exit 1 when any would
#   bash scripts/format.sh [--check] wal/write_ahead_log.cc engine/   only these files or folders
#
# The files: what git knows of (tracked, plus new files not ignored) ending in .cc or .h under
# util wal engine tuner server experiments bench tests. Left out: the fuzz seed corpora
# (tests/fuzz/corpus/) and anything generated (build directories are git-ignored).
#
# Environment:
#   CLANG_FORMAT             the clang-format to run (default: clang-format-14, else clang-format)
#   KAIRO_FORMAT_DIFF_LINES  diff lines shown per file by --check (default 20; 0 shows all)
# Other clang-format versions format some constructs differently; the style is measured on 14.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
paths=()
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "format: unknown option $arg (try --help)" >&2; exit 2 ;;
    *) paths+=("$arg") ;;
  esac
done

clang_format=${CLANG_FORMAT:-}
if [ -z "$clang_format" ]; then
  if command -v clang-format-14 >/dev/null; then clang_format=clang-format-14
  elif command -v clang-format >/dev/null; then clang_format=clang-format
  else
    echo "format: clang-format not found; install it (bash scripts/setup.sh) or set CLANG_FORMAT" >&2
    exit 2
  fi
fi
version=$("$clang_format" --version)
if ! [[ "$version" =~ version\ 14\. ]]; then
  echo "format: warning: $version is not clang-format 14; its output may differ from the house style" >&2
fi

dirs=(util wal engine tuner server experiments bench tests)
if [ ${#paths[@]} -eq 0 ]; then paths=("${dirs[@]}"); fi

files=()
while IFS= read -r -d '' f; do
  case "$f" in
    tests/fuzz/corpus/*) continue ;;
  esac
  in_project=0
  for d in "${dirs[@]}"; do
    if [[ "$f" == "$d"/* ]]; then in_project=1; break; fi
  done
  # A path git lists may be gone from the work tree (deleted or moved, not yet staged).
  if [ "$in_project" -eq 1 ] && [ -f "$f" ]; then files+=("$f"); fi
done < <(git ls-files -z --cached --others --exclude-standard -- "${paths[@]}" | sort -zu | grep -zE '\.(cc|h)$' || true)

if [ ${#files[@]} -eq 0 ]; then
  echo "format: no C++ files under ${paths[*]}" >&2
  exit 2
fi

if [ "$check" -eq 0 ]; then
  printf '%s\0' "${files[@]}" | xargs -0 -n 16 -P "$(nproc)" "$clang_format" -i --style=file
  echo "format: ${#files[@]} files formatted"
  exit 0
fi

diff_lines=${KAIRO_FORMAT_DIFF_LINES:-20}
drifted=0
changed_lines=0
for f in "${files[@]}"; do
  if d=$("$clang_format" --style=file "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" -); then
    continue
  fi
  drifted=$((drifted + 1))
  n=$(tail -n +3 <<<"$d" | grep -c '^[-+]' || true)
  changed_lines=$((changed_lines + n))
  echo "$f: $n lines would change"
  if [ "$diff_lines" -eq 0 ]; then
    echo "$d"
  else
    head -n "$diff_lines" <<<"$d"
    total=$(wc -l <<<"$d")
    if [ "$total" -gt "$diff_lines" ]; then echo "  ... ($((total - diff_lines)) more diff lines)"; fi
  fi
  echo
done

if [ "$drifted" -gt 0 ]; then
  echo "format: $drifted of ${#files[@]} files drift from .clang-format ($changed_lines lines); run bash scripts/format.sh"
  exit 1
fi
echo "format: ${#files[@]} files match .clang-format"
