// The run's random streams. One seed makes a run repeatable: each purpose (initialization,
// shuffling, dropout masks, the validation split) draws from its own stream derived from the
// seed, so adding draws to one purpose never shifts another.
//
//   lamina::Rng init(seed, lamina::Rng::Stream::Init);
//   float w = init.normal(0.0f, 0.1f);
//
// Rng is copyable: copying it saves the stream's state, which is how a gradient check replays
// a dropout mask exactly.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "lamina/export.hpp"

namespace lamina {

class LAMINA_API Rng {
 public:
  enum class Stream : std::uint64_t { Init = 1, Shuffle = 2, Layers = 3, Split = 4, User = 100 };

  explicit Rng(std::uint64_t seed = 0, Stream stream = Stream::User);
  Rng(std::uint64_t seed, std::uint64_t stream);

  float uniform();  // [0, 1)
  float normal(float mean, float stddev);
  std::uint64_t next() { return engine_(); }
  std::uint64_t below(std::uint64_t n);  // uniform integer in [0, n)
  std::mt19937_64& engine() { return engine_; }
  // The full state as text, for checkpoints (the standard's textual form of the engine).
  std::string state() const;
  void set_state(const std::string& state);  // throws InputError on text that is not a state

 private:
  std::mt19937_64 engine_;
};

}  // namespace lamina
