// What travels with every call into a layer: the mode (never a bool) and the run's random
// stream, so that a check can copy the stream and replay a dropout mask exactly.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "lamina/communicator.hpp"
#include "lamina/rng.hpp"

namespace lamina {

enum class Mode { Train, Eval };

struct Context {
  Mode mode = Mode::Train;
  Rng* rng = nullptr;
  // False for the first layer: its input gradient is never used, so a layer may skip it
  // (dx is then left untouched).
  bool need_input_grad = true;
  // The ranks training together under MPI; null in a single process (see communicator.hpp).
  Communicator* comm = nullptr;
  // When the samples are token ids (SampleSet::ids): the batch's ids, N x sample numel, exact.
  // The input tensor holds the same ids as floats, which are exact only below 2^24; a layer
  // that looks ids up (an embedding) reads them here. Empty for other data.
  std::span<const std::int32_t> input_ids = {};
};

struct BuildContext {
  Rng* rng = nullptr;  // the initialization stream
  std::string path;    // the layer's place in the model, "layers.0", for error messages
};

}  // namespace lamina
