// The kinds of things a plugin can provide. Each interface names its kind as `T::kind`.
#pragma once

#include <string_view>

#include "lamina/export.hpp"

namespace lamina {

// Values cross the plugin boundary: new kinds are appended. 5 was Search (SearchStrategy, the
// interface Sampler and Pruner replaced), removed in ABI 5; its value is not reused.
enum class Kind { Layer, Loss, Regularizer, Optimizer, Initializer, Schedule = 6, Callback, DataSource,
                  Merge, Sampler, Pruner, Metric, Augmentation };

inline constexpr Kind kAllKinds[] = {Kind::Layer,    Kind::Loss,     Kind::Regularizer, Kind::Optimizer,
                                     Kind::Initializer, Kind::Schedule, Kind::Callback, Kind::DataSource,
                                     Kind::Merge,    Kind::Sampler,  Kind::Pruner,      Kind::Metric,
                                     Kind::Augmentation};

LAMINA_API std::string_view kind_name(Kind kind);  // "layer", "loss", ..., "data_source", "sampler", "pruner", "metric", "augmentation"

}  // namespace lamina
