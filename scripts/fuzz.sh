#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/, everything instrumented with
# AddressSanitizer and UndefinedBehaviorSanitizer) and runs each for SECONDS (default 30),
# starting from the seeds in tests/fuzz/seeds/<target>. The corpus grown so far is kept in
# build-fuzz/corpus/<target>; a crash, leak, timeout or sanitizer report leaves its input in
# build-fuzz/findings/ and makes this script fail.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]      targets: model idx csv npy safetensors journal image
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(model idx csv npy safetensors journal image)

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DLAMINA_FUZZ=ON -DLAMINA_BUILD_TESTS=OFF -DLAMINA_WITH_MPI=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" >/dev/null
cmake --build build-fuzz --target fuzzers
mkdir -p build-fuzz/findings
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  log="build-fuzz/findings/$t.log"
  echo "fuzz: $t for ${seconds}s"
  if ./build-fuzz/fuzz/${t}_fuzzer -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/findings/$t-" "build-fuzz/corpus/$t" "tests/fuzz/seeds/$t" >"$log" 2>&1; then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $t: $execs executions, no finding"
  else
    echo "fuzz: $t: FINDING (see $log and build-fuzz/findings/$t-*)"
    grep -E "ERROR|runtime error|SUMMARY|terminate" "$log" | head -5 || true
    status=1
  fi
done
exit $status
