// Values in a dimension, shared by the samplers: a uniform draw in [0, 1) and the value at a
// point of the unit interval (how random sampling maps a draw). The value of a number (how TPE
// turns a point of its working scale back into YAML text) is the SDK's value_of().
#pragma once

#include <lamina/rng.hpp>
#include <lamina/search_space.hpp>

namespace lamina_samplers {

// 53 random bits: every double in [0, 1) on the grid 2^-53.
double unit(lamina::Rng& rng);
// uniform lo + (hi-lo) u; log_uniform exp(ln lo + (ln hi - ln lo) u) (the exponent uniform);
// int_uniform lo + floor((hi-lo+1) u); choice index floor(n u).
lamina::Value value_at(const lamina::Dimension& d, double u);
using lamina::value_of;  // a number as a Value (lamina/search_space.hpp)

}  // namespace lamina_samplers
