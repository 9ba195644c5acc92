// Initializer: fills a weight tensor at build time. fan_in/fan_out are the number of inputs
// and outputs of one unit (Affine: in_features, units). Biases are zero and not an
// initializer's business.
#pragma once

#include <cstdint>

#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/rng.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

class LAMINA_API Initializer {
 public:
  static constexpr Kind kind = Kind::Initializer;
  virtual ~Initializer() = default;

  virtual void fill(Tensor& w, std::int64_t fan_in, std::int64_t fan_out, Rng& rng) const = 0;
};

}  // namespace lamina
