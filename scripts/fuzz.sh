#!/usr/bin/env bash
# Fuzzes the config, CIFAR-10 and checkpoint parsers with libFuzzer + ASan +
# UBSan for SECONDS each (docs/fuzzing.md).
#
#   scripts/fuzz.sh SECONDS
#
# Builds build-fuzz/ with clang (-DSIGNVOTE_FUZZ=ON, only the three fuzz
# targets), then runs each harness from a working corpus under
# build-fuzz/fuzz-corpus/<name>/ seeded from tests/fuzz/corpus/<name>/. Crash,
# leak, timeout and OOM inputs are written to tests/fuzz/crashes/<name>/,
# where the normal build's ctest replays them. Prints one line per harness and
# exits 1 if any harness left a new artifact.
# Environment: FUZZ_JOBS (build jobs, default 2), FUZZ_BUILD_DIR (build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-}"
if [[ ! "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh SECONDS   (fuzzing time per harness)" >&2
  exit 2
fi
build="${FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${FUZZ_JOBS:-2}"
names=(config cifar checkpoint)
# Debian 12's clang 14 takes -fsanitize=fuzzer from this package (libFuzzer,
# ASan and UBSan runtimes).
packages=(clang libclang-rt-14-dev)

# True when clang++ can compile and link a libFuzzer target with ASan + UBSan.
probe_libfuzzer() {
  local dir
  dir="$(mktemp -d)"
  printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
    'extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }' \
    > "$dir/probe.cpp"
  local rc=0
  clang++ -fsanitize=fuzzer,address,undefined "$dir/probe.cpp" -o "$dir/probe" \
    > /dev/null 2>&1 || rc=$?
  rm -rf "$dir"
  return "$rc"
}

ensure_toolchain() {
  if command -v clang++ > /dev/null && probe_libfuzzer; then return 0; fi
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get > /dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" > /dev/null
  fi
  if command -v clang++ > /dev/null && probe_libfuzzer; then return 0; fi
  echo "fuzz.sh: clang++ cannot link -fsanitize=fuzzer: install the Debian packages ${packages[*]} (as root)" >&2
  exit 1
}

configure_and_build() {
  mkdir -p "$build"
  CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug \
    -DSIGNVOTE_FUZZ=ON -DSIGNVOTE_CUDA=OFF -DSIGNVOTE_DNNL=OFF > "$build/configure.log" 2>&1 || {
    tail -n 30 "$build/configure.log" >&2
    exit 1
  }
  cmake --build "$build" -j "$jobs" --target "${names[@]/#/fuzz_}"
}

# Artifacts in $1 newer than the stamp file $2.
count_artifacts() {
  find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) -newer "$2" | wc -l
}

# Executions from libFuzzer's final stats, else from its last "#N" status line.
executions() {
  local n
  n="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$1" | tail -n 1)"
  if [[ -z "$n" ]]; then
    n="$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$1" | tail -n 1)"
  fi
  echo "${n:-0}"
}

# Runs harness $1 for $secs seconds; prints its result line; returns the
# number of new artifacts through the global `found`.
fuzz_one() {
  local name="$1"
  local corpus="$build/fuzz-corpus/$name" crashes="tests/fuzz/crashes/$name"
  local log="$build/fuzz-$name.log" stamp="$build/fuzz-$name.stamp"
  mkdir -p "$corpus" "$crashes"
  local seed
  for seed in tests/fuzz/corpus/"$name"/*; do
    [[ -e "$corpus/${seed##*/}" ]] || cp "$seed" "$corpus/"
  done
  touch "$stamp"
  local extra=()
  if [[ -f "tests/fuzz/$name.dict" ]]; then extra+=("-dict=tests/fuzz/$name.dict"); fi
  local rc=0
  "$build/tests/fuzz/fuzz_$name" "$corpus" "${extra[@]}" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" > "$log" 2>&1 || rc=$?
  found="$(count_artifacts "$crashes" "$stamp")"
  local files
  files="$(find "$corpus" -maxdepth 1 -type f | wc -l)"
  printf 'fuzz %-10s executions %10s  corpus %5s files  findings %s (exit %s, log %s)\n' \
    "$name" "$(executions "$log")" "$files" "$found" "$rc" "$log"
  if [[ "$found" -eq 0 && "$rc" -ne 0 ]]; then
    echo "fuzz $name: libFuzzer exited $rc without an artifact; see $log" >&2
    found=1
  fi
}

ensure_toolchain
configure_and_build
# UBSan reports with a stack trace; ASan keeps its defaults (leak checks on).
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
failed=0
for name in "${names[@]}"; do
  found=0
  fuzz_one "$name"
  if [[ "$found" -ne 0 ]]; then failed=1; fi
done
if [[ "$failed" -ne 0 ]]; then
  echo "fuzz: findings saved under tests/fuzz/crashes/ (replayed by ctest -R fuzz in build/ and build-fuzz/)" >&2
  exit 1
fi
