// W4's two convolutions, timed as Lamina runs them, against the machine's own GEMM rate on the
// same matrix shapes. For each layer of models/cnn.yaml (batch 100):
//   lamina   the conv2d plugin's forward + backward (dW, db, and dx for the second layer only,
//            as in training: the first layer's input needs no gradient), loaded by the embedding
//            API exactly as `lamina train` loads it;
//   gemm     the same per-sample products alone (Y = W col, dW += dY col^T, dcol = W^T dY),
//            with the same Eigen kernels, flags and threads: what the layer's GEMMs could reach
//            with im2col, col2im and the bias free.
// Prints one JSON line per layer and one for both: GFLOP/s of each and their ratio.
//   conv_rate THREADS
#define EIGEN_STACK_ALLOCATION_LIMIT (1 << 20)
#define EIGEN_DONT_PARALLELIZE
#include <lamina/embed.hpp>
#include <lamina/layer.hpp>
#include <omp.h>

#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <string>

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

struct Conv {
  const char* name;
  std::int64_t c, h, w, f;  // input (c, h, w), filters; 3 x 3 kernels, same padding
  bool input_grad;
};

double seconds_per(int reps, auto&& f) {
  for (int i = 0; i < 5; ++i) f();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: conv_rate THREADS\n");
    return 2;
  }
  const int threads = std::stoi(argv[1]);
  omp_set_num_threads(threads);
  const std::int64_t n = 100;
  lamina::embed::Host host;
  const Conv convs[] = {{"conv1", 1, 28, 28, 32, false}, {"conv2", 32, 14, 14, 64, true}};
  double all_flops = 0, all_lamina = 0, all_gemm = 0;
  for (const Conv& cv : convs) {
    const std::int64_t k = cv.c * 9, p = cv.h * cv.w;
    const double flops = 2.0 * static_cast<double>(n * cv.f * k * p) * (cv.input_grad ? 3 : 2);
    const int reps = static_cast<int>(std::max(10.0, 3e10 / flops));

    auto layer = host.create<lamina::Layer>("{type: conv2d, filters: " + std::to_string(cv.f) +
                                            ", kernel: 3, padding: same}");
    lamina::Rng rng(1);
    lamina::BuildContext bctx{&rng, cv.name};
    layer->build(lamina::Shape{cv.c, cv.h, cv.w}, bctx);
    lamina::Tensor x(lamina::Shape{n, cv.c, cv.h, cv.w}), y, dx, dy(lamina::Shape{n, cv.f, cv.h, cv.w});
    for (std::int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 13) * 0.1f;
    for (std::int64_t i = 0; i < dy.size(); ++i) dy[i] = static_cast<float>(i % 7) * 0.01f;
    lamina::Context ctx{lamina::Mode::Train, &rng, cv.input_grad};
    const double lamina_s = seconds_per(reps, [&] {
      layer->forward(x, y, ctx);
      layer->backward(dy, dx, ctx);
    });

    // The same products per sample, each thread its own samples (as the layer splits them).
    const RowMatrix W = RowMatrix::Random(cv.f, k);
    std::vector<RowMatrix> cols(static_cast<std::size_t>(threads), RowMatrix::Random(k, p)),
        dWs(static_cast<std::size_t>(threads), RowMatrix::Zero(cv.f, k));
    std::vector<RowMatrix> Ys(static_cast<std::size_t>(n), RowMatrix::Zero(cv.f, p));
    const double gemm_s = seconds_per(reps, [&] {
#pragma omp parallel for schedule(static)
      for (std::int64_t s = 0; s < n; ++s) {
        auto t = static_cast<std::size_t>(omp_get_thread_num());
        Ys[static_cast<std::size_t>(s)].noalias() = W * cols[t];
      }
#pragma omp parallel for schedule(static)
      for (std::int64_t s = 0; s < n; ++s) {
        auto t = static_cast<std::size_t>(omp_get_thread_num());
        dWs[t].noalias() += Ys[static_cast<std::size_t>(s)] * cols[t].transpose();
        if (cv.input_grad) cols[t].noalias() = W.transpose() * Ys[static_cast<std::size_t>(s)];
      }
    });
    std::printf(
        "{\"layer\":\"%s\",\"threads\":%d,\"batch\":%ld,\"gflop\":%.3f,\"lamina_gflops\":%.1f,\"gemm_gflops\":%.1f,"
        "\"lamina_share_of_gemm\":%.2f}\n",
        cv.name, threads, static_cast<long>(n), flops / 1e9, flops / lamina_s / 1e9, flops / gemm_s / 1e9,
        gemm_s / lamina_s);
    all_flops += flops;
    all_lamina += lamina_s;
    all_gemm += gemm_s;
  }
  std::printf(
      "{\"layer\":\"both\",\"threads\":%d,\"batch\":%ld,\"gflop\":%.3f,\"lamina_gflops\":%.1f,\"gemm_gflops\":%.1f,"
      "\"lamina_share_of_gemm\":%.2f}\n",
      threads, static_cast<long>(n), all_flops / 1e9, all_flops / all_lamina / 1e9, all_flops / all_gemm / 1e9,
      all_gemm / all_lamina);
  return 0;
}
