// init_from: a model starting from a trained run's weights (Caffe's --weights, a Keras model's
// load_weights(by_name=True)). The model is built first, at its own initialization; then each
// tensor of the run's checkpoint that the section maps to a tensor of this model, with the same
// shape, replaces it. What is left at its initialization, a shape that differs and a pattern
// that matches nothing are reported one per line (an error with `strict: true`).
//
// Called where a model starts training from nothing: a new run, a resume whose run has no
// checkpoint yet, each search trial. A resume from a checkpoint loads every tensor from it, so
// it is exact without reading the other run again (it may be gone by then).
#pragma once

#include <ostream>

#include "runtime/model.hpp"

namespace lamina::detail {

// Loads what model.init_from names into the built model (nothing without the section); writes
// the report to `out` when given. Throws InputError for a run that cannot be read, a tensor
// that is not finite, and (strict) for anything the report lists.
void init_from_run(Model& model, std::ostream* out);

}  // namespace lamina::detail
