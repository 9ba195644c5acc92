// Named tensors a layer exposes.
//   Param  — learnable: a value and its gradient. `decay` marks tensors a regularizer acts on
//            (Affine weights: yes; biases and BatchNorm gamma/beta: no). The training flags
//            are set by the host from the model file, never by the layer:
//              trainable   false: the host hands the tensor to no optimizer and no
//                          regularizer, so it keeps its value bit for bit (and an optimizer
//                          allocates no state for it);
//              lr_mult     an optimizer scales its *step* on this tensor by it (the learning
//                          rate it uses here is lr * lr_mult), not the gradient: Adam's
//                          normalisation would cancel a scaled gradient;
//              decay_mult  a regularizer (or an optimizer's decoupled weight decay) scales
//                          its strength on this tensor by it.
//            Caffe's ParamSpec lr_mult/decay_mult; 1 leaves the arithmetic bit-identical.
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
  bool trainable = true;
  float lr_mult = 1.0f;
  float decay_mult = 1.0f;
};

struct Buffer {
  std::string name;
  Tensor value;
};

}  // namespace lamina
