#!/usr/bin/env bash
# Installs the Debian 12 packages Lamina needs, only those missing (quick when all are present).
#   bash scripts/install-deps.sh          what building the lamina command and training need
#   bash scripts/install-deps.sh --tests  that, and what the test suite needs (scripts/test.sh)
# The first set is kept small so that README command 1 stays within minutes on a fresh machine:
# browsers, clang and the Python packages serve only the suite.
set -euo pipefail

case ${1:-} in
  "") with_tests=0 ;;
  --tests) with_tests=1 ;;
  *) echo "install-deps: unknown argument '$1' (none, or --tests)" >&2; exit 2 ;;
esac

packages=(
  g++ cmake ninja-build pkg-config
  libboost-dev libboost-program-options-dev                     # Boost 1.74: DLL, Program_options
  libyaml-cpp-dev libeigen3-dev nlohmann-json3-dev libfmt-dev libcsv-dev zlib1g-dev
  libonnx-dev libprotobuf-dev                                   # lamina export (the ONNX format, its checker)
  libcpp-httplib-dev libjs-dygraphs                             # lamina serve: its HTTP server, its charts
  libpng-dev libjpeg62-turbo-dev                                # the image_folder source: PNG and JPEG decoders
  gnuplot-nox                                                   # lamina plot
  openmpi-bin libopenmpi-dev                                    # mpirun -np N lamina train|search (chosen at configure time)
  dataset-fashion-mnist                                         # /usr/share/datasets/fashion-mnist
  pybind11-dev python3-dev python3-numpy                        # import lamina (python/): its bindings, headers, arrays
)
test_packages=(
  libboost-test-dev                                             # Boost.Test, the suites' framework
  graphviz                                                      # lamina graph --out F.svg (dot); its test
  chromium chromium-driver python3-selenium                     # the dashboard's test in a real headless browser
  python3-onnx python3-opencv                                   # the export test: onnx.checker and OpenCV's DNN as the independent runtime
  python3 python3-numpy                                         # the safetensors format test; .npy files written by numpy
  python3-optuna                                                # scripts/optuna-study.py (a search as an Optuna study) and its test
  python3-pytest python3-matplotlib python3-pandas              # the Python module's tests (Run.frame()); docs/python.md's plot
  dpkg-dev                                                      # cpack's Depends (dpkg-shlibdeps), the .deb test
  clang libclang-rt-14-dev libomp-14-dev                        # libFuzzer targets (scripts/fuzz.sh)
)
((with_tests)) && packages+=("${test_packages[@]}")

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
