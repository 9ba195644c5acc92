// Successive halving at rungs of epochs (ASHA, Li et al. 2018, arXiv:1810.05934): at epochs
// min_epochs * reduction^k a trial goes on only if its score ranks within the top
// max(1, floor(n / reduction)) of the n trials that reached the rung, itself included, earlier
// trials winning ties.
#pragma once

#include <lamina/pruner.hpp>

namespace lamina_pruners {

class Asha final : public lamina::Pruner {
 public:
  Asha(std::int64_t min_epochs, std::int64_t reduction) : min_epochs_(min_epochs), reduction_(reduction) {}
  bool decides_at(std::int64_t epoch) const override;
  bool should_prune(const lamina::Trial& trial, std::span<const lamina::Trial> earlier) override;

 private:
  std::int64_t min_epochs_, reduction_;
};

}  // namespace lamina_pruners
