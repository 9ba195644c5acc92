#!/usr/bin/env bash
# Installs the Debian 12 packages Lamina needs to build, test and train on Fashion-MNIST.
# Idempotent and quick when everything is present: apt runs only for what is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libboost-dev libboost-program-options-dev libboost-test-dev   # Boost 1.74: DLL, Program_options, Test
  libyaml-cpp-dev libeigen3-dev nlohmann-json3-dev libfmt-dev libcsv-dev zlib1g-dev
  gnuplot-nox                                                   # lamina plot
  graphviz                                                      # lamina graph --out F.svg (dot)
  libonnx-dev libprotobuf-dev                                   # lamina export (the ONNX format, its checker)
  libcpp-httplib-dev libjs-dygraphs                             # lamina serve: its HTTP server, its charts
  chromium chromium-driver python3-selenium                     # the dashboard's test in a real headless browser
  python3-onnx python3-opencv                                   # the export test: onnx.checker and OpenCV's DNN as the independent runtime
  python3 python3-numpy                                         # the safetensors format test; .npy files written by numpy
  python3-optuna                                                # scripts/optuna-study.py (a search as an Optuna study) and its test
  dpkg-dev                                                      # cpack's Depends (dpkg-shlibdeps), the .deb test
  clang libclang-rt-14-dev libomp-14-dev                        # libFuzzer targets (scripts/fuzz.sh)
  openmpi-bin libopenmpi-dev                                    # mpirun -np N lamina train|search
  dataset-fashion-mnist                                         # /usr/share/datasets/fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
