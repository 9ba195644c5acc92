// The softmax of a row of scores, the one place it is written: p_j = exp(s_j - max s) / sum.
// Subtracting the row's maximum keeps exp() from overflowing for large scores (the largest term
// is exp(0) = 1, so the sum is at least 1 and its log is finite).
//
// Callers normalize themselves because each needs its own precision: the loss computes exp()
// in float, as its gradient is float, and needs log(sum) too; ensembles and predictions
// compute in double and divide. Header-only: no part of the plugin ABI.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace lamina {

struct SoftmaxRow {
  float max;   // the row's largest score
  double sum;  // sum_j exp(s_j - max), at least 1
};

// Writes exp(s_j - max) for j < c to e, computed in Real (float or double), and returns the
// maximum and their sum (accumulated in double).
template <class Real>
SoftmaxRow softmax_exponentials(const float* s, std::int64_t c, Real* e) {
  const float max = *std::max_element(s, s + c);
  double sum = 0;
  for (std::int64_t j = 0; j < c; ++j) {
    e[j] = std::exp(static_cast<Real>(s[j] - max));
    sum += e[j];
  }
  return {max, sum};
}

}  // namespace lamina
