#include "lamina/rng.hpp"

#include <cmath>
#include <sstream>

#include "lamina/error.hpp"

namespace lamina {
namespace {
// SplitMix64: spreads (seed, stream) over the whole state so that nearby seeds and streams
// give unrelated sequences.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

Rng::Rng(std::uint64_t seed, Stream stream) : Rng(seed, static_cast<std::uint64_t>(stream)) {}

Rng::Rng(std::uint64_t seed, std::uint64_t stream) : engine_(mix(mix(seed) ^ mix(~stream))) {}

float Rng::uniform() {
  // 24 random bits: every float in [0, 1) that the mantissa can hold, never 1.0f.
  return static_cast<float>(engine_() >> 40) * 0x1.0p-24f;
}

float Rng::normal(float mean, float stddev) {
  // Box-Muller written out rather than std::normal_distribution, whose algorithm differs
  // between C++ libraries: the same seed gives the same weights everywhere.
  const double u1 = (static_cast<double>(engine_() >> 11) + 1.0) * 0x1.0p-53;
  const double u2 = static_cast<double>(engine_() >> 11) * 0x1.0p-53;
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  return mean + stddev * static_cast<float>(z);
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Lemire's nearly-divisionless method would do too; rejection keeps it obviously unbiased.
  const std::uint64_t limit = n == 0 ? 0 : (~std::uint64_t{0} - n + 1) % n;
  std::uint64_t r;
  do {
    r = engine_();
  } while (r < limit);
  return n == 0 ? 0 : r % n;
}

std::string Rng::state() const {
  std::ostringstream s;
  s << engine_;
  return s.str();
}

void Rng::set_state(const std::string& state) {
  std::istringstream s(state);
  std::mt19937_64 e;
  s >> e;
  if (s.fail()) throw InputError("not a random stream state");
  engine_ = e;
}

}  // namespace lamina
