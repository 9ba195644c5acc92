// The merge types of this plugin, each registered by its own file.
#pragma once

#include <lamina/parallel.hpp>
#include <lamina/registrar.hpp>
#include <lamina/tensor.hpp>

#include <cstdint>
#include <span>

namespace lamina_merge {

void register_elementwise(lamina::Registrar& r);  // add, multiply
void register_concat(lamina::Registrar& r);       // concat

// Big element-wise loops split over threads as the activations do (lamina/parallel.hpp); below
// 64k elements one thread is faster than waking others.
template <class F>
void over_elements(std::int64_t n, F&& f) {
  lamina::for_ranges(n, lamina::threads_for(n >> 16), 16, [&](int, std::int64_t b, std::int64_t e) { f(b, e); });
}

// (N, sample...) for N rows of a per-sample shape.
inline lamina::Shape batched(std::int64_t rows, const lamina::Shape& sample) {
  std::int64_t dims[lamina::Shape::kMaxRank] = {rows};
  for (int i = 0; i < sample.rank(); ++i) dims[i + 1] = sample[i];
  return lamina::Shape::from(std::span<const std::int64_t>(dims, static_cast<std::size_t>(sample.rank() + 1)));
}

}  // namespace lamina_merge
