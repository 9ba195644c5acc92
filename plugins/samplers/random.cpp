#include "random.hpp"

#include "values.hpp"

namespace lamina_samplers {

std::vector<lamina::Value> RandomSampler::propose(const lamina::SearchSpace& space, std::span<const lamina::Trial>,
                                                  std::int64_t, lamina::Rng& rng) {
  std::vector<lamina::Value> out;
  for (const auto& d : space.dims) out.push_back(value_at(d, unit(rng)));
  return out;
}

}  // namespace lamina_samplers
