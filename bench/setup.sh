#!/usr/bin/env bash
# Installs what the benchmark compares against (Debian's libtorch-dev and python3-torch) and
# hyperfine, builds Lamina (build/, and build-native/ with -march=native) and the benchmark's own
# programs (build-bench/, build-bench-native/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --tests   # build/ below is built with its tests
missing=()
# OpenBLAS: without it libtorch falls back to the reference BLAS and runs ~30x slower (a handicap).
for p in libtorch-dev python3-torch python3-numpy hyperfine libopenblas0-pthread; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
cmake -S . -B build -G Ninja >/dev/null && cmake --build build
cmake -S . -B build-native -G Ninja -DLAMINA_NATIVE=ON -DLAMINA_BUILD_TESTS=OFF >/dev/null && cmake --build build-native
cmake -S bench -B build-bench -G Ninja >/dev/null && cmake --build build-bench
cmake -S bench -B build-bench-native -G Ninja -DLAMINA_NATIVE=ON >/dev/null && cmake --build build-bench-native --target gemm_rate
cc -O2 -shared -fPIC -o build-bench/count_allocs.so bench/count_allocs.c -ldl
