// The kinds of things a plugin can provide. Each interface names its kind as `T::kind`.
#pragma once

#include <string_view>

#include "lamina/export.hpp"

namespace lamina {

// Values cross the plugin boundary: new kinds are appended.
enum class Kind { Layer, Loss, Regularizer, Optimizer, Initializer, Search, Schedule, Callback, DataSource,
                  Merge, Sampler, Pruner };

inline constexpr Kind kAllKinds[] = {Kind::Layer,  Kind::Loss,     Kind::Regularizer, Kind::Optimizer, Kind::Initializer,
                                     Kind::Search, Kind::Schedule, Kind::Callback, Kind::DataSource,
                                     Kind::Merge, Kind::Sampler, Kind::Pruner};

LAMINA_API std::string_view kind_name(Kind kind);  // "layer", "loss", ..., "data_source", "sampler", "pruner"

}  // namespace lamina
