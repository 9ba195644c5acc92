#include "values.hpp"

#include <algorithm>
#include <cmath>

namespace lamina_samplers {

using lamina::Dimension;
using lamina::Value;
using lamina::value_of;

double unit(lamina::Rng& rng) { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; }

Value value_at(const Dimension& d, double u) {
  switch (d.type) {
    case Dimension::Type::Uniform:
      return value_of(d, d.lo + (d.hi - d.lo) * u);
    case Dimension::Type::LogUniform:
      return value_of(d, std::exp(std::log(d.lo) + (std::log(d.hi) - std::log(d.lo)) * u));
    case Dimension::Type::IntUniform:
      return value_of(d, std::min(d.hi, d.lo + std::floor((d.hi - d.lo + 1) * u)));
    case Dimension::Type::Choice:
      return value_of(d, static_cast<double>(std::min(d.choices.size() - 1,
                                                      static_cast<std::size_t>(std::floor(u * d.choices.size())))));
  }
  return {};
}

}  // namespace lamina_samplers
