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

#include "lamina/error.hpp"
#include "lamina/export.hpp"

namespace lamina {

// The families of derived streams: one stream per trial, per rank, ... Each family owns the
// ids whose top 16 bits are its number, so no two streams of different purposes can coincide
// (ids used to be 1000 + trial and 2000 + trial: trial 1000's proposals drew trial 0's seed).
enum class StreamFamily : std::uint64_t {
  TrialProposal = 1,  // a search trial's sampled values; index: the trial id
  TrialSeed = 2,      // a search trial's training seed; index: the trial id
  RankLayers = 3,     // a data-parallel rank's layer stream (dropout masks); index: rank, epoch
  Augment = 4,        // data.augment's draws; index: the augmentation's position (and rank), the step
  User = 0x7fff,      // free for plugins and tools
};

class LAMINA_API Rng {
 public:
  // The run's fixed streams: small ids, below every family's range.
  enum class Stream : std::uint64_t { Init = 1, Shuffle = 2, Layers = 3, Split = 4, User = 100 };

  static constexpr std::uint64_t kFamilyShift = 48;
  static constexpr std::uint64_t kIndexLimit = std::uint64_t{1} << kFamilyShift;
  static constexpr std::uint64_t kMinorLimit = std::uint64_t{1} << 24;
  // The stream id of `index` in `family`; throws Error for an index of 2^48 or more.
  static std::uint64_t derived(StreamFamily family, std::uint64_t index) {
    if (index >= kIndexLimit) throw Error("random stream index out of range (2^48 or more)");
    return (static_cast<std::uint64_t>(family) << kFamilyShift) | index;
  }
  // Two-level index (major < 2^24, minor < 2^24), e.g. (rank, epoch).
  static std::uint64_t derived(StreamFamily family, std::uint64_t major, std::uint64_t minor) {
    if (major >= kMinorLimit || minor >= kMinorLimit) throw Error("random stream index out of range (2^24 or more)");
    return derived(family, major * kMinorLimit + minor);
  }

  explicit Rng(std::uint64_t seed = 0, Stream stream = Stream::User);
  Rng(std::uint64_t seed, std::uint64_t stream);

  float uniform();  // [0, 1)
  float normal(float mean, float stddev);
  std::uint64_t next() { return engine_(); }
  std::uint64_t below(std::uint64_t n);  // uniform integer in [0, n)
  // The full state as text, for checkpoints (the standard's textual form of the engine).
  std::string state() const;
  void set_state(const std::string& state);  // throws InputError on text that is not a state

 private:
  std::mt19937_64 engine_;
};

}  // namespace lamina
