#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. the normal build (build/) and its ctest suite;
#   2. the same suite again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/);
#   3. each libFuzzer target for FUZZ_SECONDS (default 20) from its seeds (build-fuzz/).
# Stops at the first failing stage. LAMINA_TEST_STAGES="normal asan fuzz" picks stages.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=${LAMINA_TEST_STAGES:-normal asan fuzz}
# Each test gets a default time limit and each stage a limit of its own, so that a hang fails the
# run instead of stalling it; ctest runs as many tests at once as there are cores.
jobs=$(nproc)
ctest_args=(--output-on-failure --timeout 900 -j "$jobs")
limit() { timeout --foreground "$1" "${@:2}" || { s=$?; [[ $s == 124 ]] && echo "test.sh: stage $stage over its limit of $1 s" >&2; return $s; }; }

for stage in $stages; do
  start=$SECONDS
  case $stage in
    normal)
      cmake -S . -B build -G Ninja -DLAMINA_BUILD_TESTS=ON  # command 1 may have configured build/ without them
      cmake --build build
      limit 1200 ctest --test-dir build "${ctest_args[@]}"
      ;;
    asan)
      # -O1 -g1: the sanitizers' instrumentation made -O2 -g compiles five times slower than plain
      # ones; at -O1 with line tables (all a report's stack needs) the build takes half the time.
      # -fexpensive-optimizations keeps -O2's fused multiply-adds (GCC contracts a*b+c only with
      # it), so this build computes the same floats as the normal one: a journal or weights file
      # written by one is reproduced bit for bit by the other.
      # (-DLAMINA_PYTHON=OFF: its module would not load into python3 without libasan preloaded;
      # tests/CMakeLists.txt reports python_module as not run here.)
      cmake -S . -B build-asan -G Ninja -DLAMINA_SANITIZE=ON -DLAMINA_PYTHON=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -fexpensive-optimizations -g1 -DNDEBUG"
      cmake --build build-asan
      # Up to GCC 13 the sanitizer runtime's __tls_get_addr interceptor takes a dynamic TLS block
      # that happens to start 16 bytes past a page boundary for a pre-2.25 glibc one and reads the
      # words before it; LeakSanitizer's tracer then dies at exit ("Tracer caught signal 11") after
      # a test has passed. Plugins are dlopen'ed, so their thread_locals are such blocks.
      ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}intercept_tls_get_addr=0" \
        limit 2400 ctest --test-dir build-asan "${ctest_args[@]}"
      ;;
    fuzz)
      limit 1500 bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
      ;;
    *)
      echo "test.sh: unknown stage '$stage' (normal, asan, fuzz)" >&2
      exit 2
      ;;
  esac
  echo "test.sh: stage $stage passed in $((SECONDS - start)) s"
done
