// The benchmark's workloads in libtorch's C++ API, written as a libtorch user would: nn modules,
// torch::optim, data already in memory as tensors. Prints one JSON line:
//   {"program":"libtorch","workload":"w1","threads":1,"samples_per_s":...,"test_accuracy":...}
//   torch_train w1|w2|w3|w4|w6 THREADS [SEED [EPOCHS]]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "fashion.hpp"

namespace {

struct Net : torch::nn::Module {
  torch::nn::Sequential seq;
  // W6: an image's 28 rows as 28 steps into torch::nn::LSTM (PyTorch's init), the last step's h
  // into Linear(128, 10).
  torch::nn::LSTM lstm{nullptr};
  explicit Net(const std::string& w) {
    if (w == "w6") {
      lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(28, 128).batch_first(true)));
      seq = torch::nn::Sequential(torch::nn::Linear(128, 10));
    } else if (w == "w4") {
      // models/cnn.yaml: same padding, BatchNorm2d's defaults (eps 1e-5, momentum 0.1 = Lamina's 0.9).
      namespace nn = torch::nn;
      seq = nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1)), nn::BatchNorm2d(32), nn::ReLU(),
                           nn::MaxPool2d(2), nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1)), nn::BatchNorm2d(64),
                           nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(64 * 7 * 7, 128), nn::ReLU(),
                           nn::Dropout(0.5), nn::Linear(128, 10));
    } else if (w == "w2") {
      seq = torch::nn::Sequential(torch::nn::Linear(784, 100), torch::nn::ReLU(), torch::nn::Linear(100, 100),
                                  torch::nn::ReLU(), torch::nn::Linear(100, 100), torch::nn::ReLU(),
                                  torch::nn::Linear(100, 100), torch::nn::ReLU(), torch::nn::Linear(100, 10));
    } else {
      seq = torch::nn::Sequential(torch::nn::Linear(784, 256), torch::nn::BatchNorm1d(256), torch::nn::ReLU(),
                                  torch::nn::Dropout(0.2), torch::nn::Linear(256, 256), torch::nn::BatchNorm1d(256),
                                  torch::nn::ReLU(), torch::nn::Dropout(0.2), torch::nn::Linear(256, 10));
    }
    register_module("seq", seq);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    if (!lstm) return seq->forward(x);
    const auto steps = std::get<0>(lstm->forward(x));  // (N, T, H)
    return seq->forward(steps.select(1, steps.size(1) - 1));
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: torch_train w1|w2|w3|w4|w6 THREADS [SEED [EPOCHS]]\n");
    return 2;
  }
  const std::string w = argv[1];
  const int threads = std::stoi(argv[2]);
  torch::set_num_threads(threads);
  torch::manual_seed(argc >= 4 ? std::stoi(argv[3]) : 1);
  const int epochs = argc == 5 ? std::stoi(argv[4]) : 1;
  const auto train = bench::load("train"), test = bench::load("t10k");
  // W4's samples are images (N, 1, 28, 28), W6's sequences of 28 rows (N, 28, 28); the others' flat rows.
  const std::vector<std::int64_t> sample = w == "w4"   ? std::vector<std::int64_t>{1, 28, 28}
                                           : w == "w6" ? std::vector<std::int64_t>{28, 28}
                                                       : std::vector<std::int64_t>{784};
  auto shaped = [&](std::int64_t n) {
    std::vector<std::int64_t> dims{n};
    dims.insert(dims.end(), sample.begin(), sample.end());
    return dims;
  };
  const auto x = torch::from_blob(const_cast<float*>(train.x.data()), shaped(train.n)).clone();
  const auto y = torch::from_blob(const_cast<std::int64_t*>(train.y.data()), {train.n}, torch::kLong).clone();
  const auto tx = torch::from_blob(const_cast<float*>(test.x.data()), shaped(test.n)).clone();
  const auto ty = torch::from_blob(const_cast<std::int64_t*>(test.y.data()), {test.n}, torch::kLong).clone();
  const std::int64_t batch = w == "w3" ? 1000 : 100;

  Net net(w);
  // Lamina's `init: he`: weights normal with std sqrt(2 / fan_in), biases zero (libtorch's
  // default init, a third of that variance, leaves W2 at ~20% after one epoch of SGD 0.01).
  for (auto& m : net.seq->modules(false)) {
    torch::NoGradGuard no_grad;
    if (auto* linear = m->as<torch::nn::Linear>()) {
      torch::nn::init::kaiming_normal_(linear->weight, 0.0, torch::kFanIn, torch::kReLU);
      torch::nn::init::zeros_(linear->bias);
    } else if (auto* conv = m->as<torch::nn::Conv2d>()) {  // fan_in = in_channels * kh * kw
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanIn, torch::kReLU);
      torch::nn::init::zeros_(conv->bias);
    }
  }
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (w == "w4" || w == "w6") {
    opt = std::make_unique<torch::optim::Adam>(net.parameters(), torch::optim::AdamOptions(1e-3));
  } else if (w == "w2") {
    opt = std::make_unique<torch::optim::SGD>(net.parameters(), torch::optim::SGDOptions(0.01));
  } else {
    // L2 1e-4 as Adam's weight_decay (added to the gradient), as Lamina's l2 regularizer does.
    opt = std::make_unique<torch::optim::Adam>(net.parameters(), torch::optim::AdamOptions(1e-3).weight_decay(1e-4));
  }
  net.train();
  const auto start = std::chrono::steady_clock::now();
  for (int e = 0; e < epochs; ++e) {
    const auto perm = torch::randperm(train.n, torch::kLong);
    for (std::int64_t b = 0; b + batch <= train.n; b += batch) {
      const auto idx = perm.slice(0, b, b + batch);
      const auto xb = x.index_select(0, idx), yb = y.index_select(0, idx);
      opt->zero_grad();
      const auto loss = torch::nn::functional::cross_entropy(net.forward(xb), yb);
      loss.backward();
      opt->step();
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  net.eval();
  torch::NoGradGuard no_grad;
  // In chunks of 1000: W4's activations for all 10,000 images at once would take a gigabyte.
  std::int64_t correct = 0;
  for (std::int64_t b = 0; b < test.n; b += 1000) {
    const auto end = std::min<std::int64_t>(test.n, b + 1000);
    correct += net.forward(tx.slice(0, b, end)).argmax(1).eq(ty.slice(0, b, end)).sum().item<std::int64_t>();
  }
  const double acc = static_cast<double>(correct) / static_cast<double>(test.n);
  std::printf(
      "{\"program\":\"libtorch\",\"workload\":\"%s\",\"threads\":%d,\"samples_per_s\":%.1f,\"test_accuracy\":%.4f}\n",
      w.c_str(), threads, static_cast<double>(epochs) * static_cast<double>(train.n / batch * batch) / seconds, acc);
  return 0;
}
