// Ensembles (eval and predict, one owner): what the members predict, averaged sample by sample,
// in double, each member weighing 1/members: the softmax probabilities of each sample (a class)
// or of each position (a class per position), the sigmoid of each label (multi-label), or the
// outputs themselves (regression).
//
//   Ensemble avg(runs.size(), samples, kind);
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
#include "lamina/targets.hpp"
#include "lamina/tensor.hpp"

namespace lamina::detail {

class Ensemble {
 public:
  Ensemble(std::size_t members, std::int64_t samples, TargetKind kind = TargetKind::Class)
      : weight_(1.0 / static_cast<double>(members)), samples_(samples), kind_(kind) {}

  // Adds one member's predictions of rows [first_row, first_row + scores.rows()).
  void add(const std::filesystem::path& member, const Tensor& scores, std::int64_t first_row) {
    const std::int64_t per_sample = scores.size() / std::max<std::int64_t>(scores.rows(), 1);
    const std::int64_t c = scores.shape()[scores.rank() - 1];  // a softmax's row
    if (classes_ == 0) {
      classes_ = per_sample;
      sum_.assign(static_cast<std::size_t>(samples_ * per_sample), 0.0);
      e_.resize(static_cast<std::size_t>(c));
    }
    if (per_sample != classes_) {
      throw InputError(std::string(member.string()) + ": its model gives " + std::to_string(per_sample) +
                       " scores per sample, the first member's " + std::to_string(classes_));
    }
    const bool softmax = kind_ == TargetKind::Class || kind_ == TargetKind::ClassPerPosition;
    for (std::int64_t i = 0; i < scores.rows() * per_sample; i += softmax ? c : per_sample) {
      const float* s = scores.data() + i;
      double* out = sum_.data() + first_row * per_sample + i;
      if (softmax) {
        const double z = softmax_exponentials<double>(s, c, e_.data()).sum;
        for (std::int64_t j = 0; j < c; ++j) out[j] += weight_ * e_[static_cast<std::size_t>(j)] / z;
      } else if (kind_ == TargetKind::MultiLabel) {
        for (std::int64_t j = 0; j < per_sample; ++j) out[j] += weight_ / (1.0 + std::exp(-static_cast<double>(s[j])));
      } else {
        for (std::int64_t j = 0; j < per_sample; ++j) out[j] += weight_ * static_cast<double>(s[j]);
      }
    }
  }

  // Values per sample: classes, labels, outputs, or positions x classes.
  std::int64_t classes() const { return classes_; }
  std::int64_t samples() const { return samples_; }
  const double* row(std::int64_t i) const { return sum_.data() + i * classes_; }
  // The most probable class (of a class per sample).
  std::int64_t predicted(std::int64_t i) const { return std::max_element(row(i), row(i) + classes_) - row(i); }

 private:
  double weight_;
  std::int64_t samples_;
  TargetKind kind_;
  std::int64_t classes_ = 0;
  std::vector<double> sum_;
  std::vector<double> e_;  // one row's exponentials
};

}  // namespace lamina::detail
