// Random search (Bergstra & Bengio 2012, JMLR 13), as the book teaches it: every
// hyperparameter sampled at random rather than on a grid, log_uniform on the exponent
// ("powers of ten"). One uniform draw per dimension from the trial's own stream, so trial k's
// values do not depend on any other trial.
#pragma once

#include <lamina/sampler.hpp>

namespace lamina_samplers {

class RandomSampler final : public lamina::Sampler {
 public:
  std::vector<lamina::Value> propose(const lamina::SearchSpace& space, std::span<const lamina::Trial> history,
                                     std::int64_t id, lamina::Rng& rng) override;
  bool uses_history() const override { return false; }
};

}  // namespace lamina_samplers
