// The machine's own single-precision GEMM rate on the matrix shapes of one training step of W1
// (or W2), with the same Eigen kernels, layout (row-major maps) and compiler flags as Lamina,
// and OpenMP threads as --threads sets them. Prints one JSON line with the FLOPs of a step and
// the rate: the step's GEMMs can run no faster than flops / rate.
//   gemm_rate w1|w2 BATCH THREADS [eigen|openblas|onednn]
// `openblas` runs the same products through Debian's OpenBLAS (cblas_sgemm, row-major, loaded
// with dlopen, so nothing here needs its headers): the figure for choosing Eigen or OpenBLAS.
// `onednn` runs them through oneDNN's dnnl_sgemm (libdnnl2, which libtorch already pulls in;
// its JIT kernels use AVX-512 where the CPU has it, whatever the compiler flags).
#include <dlfcn.h>
#include <omp.h>

#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// cblas_sgemm's C signature; the enums are ints in the C API (RowMajor 101, NoTrans 111, Trans 112).
using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: gemm_rate w1|w2 BATCH THREADS [eigen|openblas]\n");
    return 2;
  }
  const std::string kernel = argc == 5 ? argv[4] : "eigen";
  Sgemm sgemm = nullptr;
  // dnnl_sgemm(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), row-major.
  using Dnnl =
      int (*)(char, char, long, long, long, float, const float*, long, const float*, long, float, float*, long);
  Dnnl dnnl = nullptr;
  if (kernel == "onednn") {
    void* lib = dlopen("libdnnl.so.2", RTLD_NOW);
    dnnl = lib ? reinterpret_cast<Dnnl>(dlsym(lib, "dnnl_sgemm")) : nullptr;
    if (!dnnl) {
      std::fprintf(stderr, "gemm_rate: no dnnl_sgemm in libdnnl.so.2 (Debian's libdnnl2)\n");
      return 2;
    }
  }
  if (kernel == "openblas") {
    void* lib = dlopen("libopenblas.so.0", RTLD_NOW);
    if (!lib) {
      std::fprintf(stderr, "gemm_rate: %s (bench/setup.sh installs libopenblas0-pthread)\n", dlerror());
      return 2;
    }
    sgemm = reinterpret_cast<Sgemm>(dlsym(lib, "cblas_sgemm"));
    auto set_threads = reinterpret_cast<void (*)(int)>(dlsym(lib, "openblas_set_num_threads"));
    if (!sgemm || !set_threads) {
      std::fprintf(stderr, "gemm_rate: libopenblas.so.0 lacks cblas_sgemm\n");
      return 2;
    }
    set_threads(std::stoi(argv[3]));
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
  // C (m x n) = op(A) op(B), row-major, through OpenBLAS.
  auto blas = [&](bool ta, bool tb, const RowMatrix& a, const RowMatrix& b, RowMatrix& c) {
    const int k = static_cast<int>(ta ? a.rows() : a.cols());
    sgemm(101, ta ? 112 : 111, tb ? 112 : 111, static_cast<int>(c.rows()), static_cast<int>(c.cols()), k, 1.0f,
          a.data(), static_cast<int>(a.cols()), b.data(), static_cast<int>(b.cols()), 0.0f, c.data(),
          static_cast<int>(c.cols()));
  };
  auto onednn = [&](bool ta, bool tb, const RowMatrix& a, const RowMatrix& b, RowMatrix& c) {
    dnnl(ta ? 'T' : 'N', tb ? 'T' : 'N', c.rows(), c.cols(), ta ? a.rows() : a.cols(), 1.0f, a.data(), a.cols(),
         b.data(), b.cols(), 0.0f, c.data(), c.cols());
  };
  // One step through a library's GEMM, called as gemm(transpose a, transpose b, a, b, c).
  auto library_step = [&](auto&& gemm) {
    for (auto& l : layers) gemm(false, false, l.x, l.W, l.y);
    for (std::size_t i = layers.size(); i-- > 0;) {
      auto& l = layers[i];
      gemm(true, false, l.x, l.y, l.dW);
      if (i > 0) gemm(false, true, l.y, l.W, l.dx);
    }
  };
  auto eigen_step = [&] {
    for (auto& l : layers) l.y.noalias() = l.x * l.W;
    for (std::size_t i = layers.size(); i-- > 0;) {
      auto& l = layers[i];
      l.dW.noalias() = l.x.transpose() * l.y;
      if (i > 0) l.dx.noalias() = l.y * l.W.transpose();
    }
  };
  auto step = [&] { dnnl ? library_step(onednn) : sgemm ? library_step(blas) : eigen_step(); };
  for (int i = 0; i < 20; ++i) step();
  // GEMM_REPS fixes the count, for counting heap allocations per step (bench/extras.sh).
  const char* fixed = std::getenv("GEMM_REPS");
  const int reps = fixed ? std::atoi(fixed) : static_cast<int>(std::max(20.0, 2e10 / flops));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) step();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"program\":\"gemm\",\"kernel\":\"%s\",\"workload\":\"%s\",\"batch\":%ld,\"threads\":%s,\"step_flops\":%.0f,"
      "\"gflops\":%.1f,\"step_ms\":%.4f}\n",
      kernel.c_str(), w.c_str(), static_cast<long>(n), argv[3], flops, flops * reps / s / 1e9, s / reps * 1e3);
  return 0;
}
