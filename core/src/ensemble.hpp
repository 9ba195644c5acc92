// Ensembles (eval and predict, one owner): the members' softmax probabilities averaged sample
// by sample, in double, each member weighing 1/members.
//
//   Ensemble avg(runs.size(), samples);
//   for each member, for each batch: avg.add(member_dir, scores, first_row);
//   avg.row(i), avg.predicted(i)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lamina/error.hpp"
#include "lamina/softmax.hpp"
#include "lamina/tensor.hpp"

namespace lamina::detail {

class Ensemble {
 public:
  Ensemble(std::size_t members, std::int64_t samples) : weight_(1.0 / static_cast<double>(members)), samples_(samples) {}

  // Adds one member's probabilities of rows [first_row, first_row + scores.rows()).
  void add(const std::filesystem::path& member, const Tensor& scores, std::int64_t first_row) {
    const std::int64_t c = scores.cols();
    if (classes_ == 0) {
      classes_ = c;
      sum_.assign(static_cast<std::size_t>(samples_ * c), 0.0);
      e_.resize(static_cast<std::size_t>(c));
    }
    if (c != classes_) {
      throw InputError(std::string(member.string()) + ": its model gives " + std::to_string(c) +
                       " scores per sample, the first member's " + std::to_string(classes_));
    }
    for (std::int64_t i = 0; i < scores.rows(); ++i) {
      const float* s = scores.data() + i * c;
      double* out = sum_.data() + (first_row + i) * c;
      const double z = softmax_exponentials<double>(s, c, e_.data()).sum;
      for (std::int64_t j = 0; j < c; ++j) out[j] += weight_ * e_[static_cast<std::size_t>(j)] / z;
    }
  }

  std::int64_t classes() const { return classes_; }
  std::int64_t samples() const { return samples_; }
  const double* row(std::int64_t i) const { return sum_.data() + i * classes_; }
  std::int64_t predicted(std::int64_t i) const { return std::max_element(row(i), row(i) + classes_) - row(i); }

 private:
  double weight_;
  std::int64_t samples_;
  std::int64_t classes_ = 0;
  std::vector<double> sum_;
  std::vector<double> e_;  // one row's exponentials
};

}  // namespace lamina::detail
