// Ensembles (eval and predict): members' softmax probabilities, averaged sample by sample.
#pragma once

#include <algorithm>
#include <cmath>

#include "lamina/tensor.hpp"

namespace lamina::detail {

// out[i*C + j] += weight * softmax(scores row i)[j], computed stably (max subtracted).
inline void add_softmax(const Tensor& scores, double weight, double* out) {
  const std::int64_t c = scores.cols();
  for (std::int64_t i = 0; i < scores.rows(); ++i) {
    const float* s = scores.data() + i * c;
    const float mx = *std::max_element(s, s + c);
    double z = 0;
    for (std::int64_t j = 0; j < c; ++j) z += std::exp(static_cast<double>(s[j] - mx));
    for (std::int64_t j = 0; j < c; ++j) out[i * c + j] += weight * std::exp(static_cast<double>(s[j] - mx)) / z;
  }
}

}  // namespace lamina::detail
