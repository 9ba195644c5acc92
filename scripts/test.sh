#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. the normal build (build/) and its ctest suite;
#   2. the same suite again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/);
#   3. each libFuzzer target for FUZZ_SECONDS (default 20) from its seeds (build-fuzz/).
# Stops at the first failing stage. LAMINA_TEST_STAGES="normal asan fuzz" picks stages.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=${LAMINA_TEST_STAGES:-normal asan fuzz}

for stage in $stages; do
  start=$SECONDS
  case $stage in
    normal)
      cmake -S . -B build -G Ninja
      cmake --build build
      ctest --test-dir build --output-on-failure
      ;;
    asan)
      cmake -S . -B build-asan -G Ninja -DLAMINA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
      cmake --build build-asan
      ctest --test-dir build-asan --output-on-failure
      ;;
    fuzz)
      bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
      ;;
    *)
      echo "test.sh: unknown stage '$stage' (normal, asan, fuzz)" >&2
      exit 2
      ;;
  esac
  echo "test.sh: stage $stage passed in $((SECONDS - start)) s"
done
