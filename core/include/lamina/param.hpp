// Named tensors a layer exposes.
//   Param  — learnable: a value and its gradient. `decay` marks tensors a regularizer acts on
//            (Affine weights: yes; biases and BatchNorm gamma/beta: no).
//   Buffer — persistent but not learnable (BatchNorm's running mean/var): saved in checkpoints,
//            never seen by an optimizer (PyTorch's parameters vs buffers).
// A layer names its tensors locally ("W", "b"); the network prefixes the layer's place
// ("layers.0.W"), which is the stable key optimizers use for their per-parameter state.
#pragma once

#include <string>

#include "lamina/tensor.hpp"

namespace lamina {

struct Param {
  std::string name;
  Tensor value;
  Tensor grad;
  bool decay = false;
};

struct Buffer {
  std::string name;
  Tensor value;
};

}  // namespace lamina
