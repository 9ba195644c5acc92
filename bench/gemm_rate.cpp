// The machine's own single-precision GEMM rate on the matrix shapes of one training step of W1
// (or W2), with the same Eigen kernels, layout (row-major maps) and compiler flags as Lamina,
// and OpenMP threads as --threads sets them. Prints one JSON line with the FLOPs of a step and
// the rate: the step's GEMMs can run no faster than flops / rate.
//   gemm_rate w1|w2 BATCH THREADS
#include <omp.h>

#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: gemm_rate w1|w2 BATCH THREADS\n");
    return 2;
  }
  const std::string w = argv[1];
  const Eigen::Index n = std::stol(argv[2]);
  omp_set_num_threads(std::stoi(argv[3]));
  const std::vector<Eigen::Index> widths =
      w == "w2" ? std::vector<Eigen::Index>{784, 100, 100, 100, 100, 10} : std::vector<Eigen::Index>{784, 256, 256, 10};
  struct Layer {
    RowMatrix x, W, y, dW, dx;
  };
  std::vector<Layer> layers;
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    Layer l;
    l.x = RowMatrix::Random(n, widths[i]);
    l.W = RowMatrix::Random(widths[i], widths[i + 1]);
    l.y = RowMatrix::Zero(n, widths[i + 1]);
    l.dW = RowMatrix::Zero(widths[i], widths[i + 1]);
    l.dx = RowMatrix::Zero(n, widths[i]);
    layers.push_back(std::move(l));
  }
  // One step: y = xW for each layer, then dW = x^T dy and (past the first layer) dx = dy W^T.
  double flops = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const double f = 2.0 * static_cast<double>(n * widths[i] * widths[i + 1]);
    flops += i == 0 ? 2 * f : 3 * f;
  }
  auto step = [&] {
    for (auto& l : layers) l.y.noalias() = l.x * l.W;
    for (std::size_t i = layers.size(); i-- > 0;) {
      auto& l = layers[i];
      l.dW.noalias() = l.x.transpose() * l.y;
      if (i > 0) l.dx.noalias() = l.y * l.W.transpose();
    }
  };
  for (int i = 0; i < 20; ++i) step();
  const int reps = static_cast<int>(std::max(20.0, 2e10 / flops));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) step();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"program\":\"gemm\",\"workload\":\"%s\",\"batch\":%ld,\"threads\":%s,\"step_flops\":%.0f,"
              "\"gflops\":%.1f,\"step_ms\":%.4f}\n",
              w.c_str(), static_cast<long>(n), argv[3], flops, flops * reps / s / 1e9, s / reps * 1e3);
  return 0;
}
