// The kinds of things a plugin can provide. Each interface names its kind as `T::kind`.
#pragma once

#include <string_view>

#include "lamina/export.hpp"

namespace lamina {

enum class Kind { Layer, Loss, Regularizer, Optimizer, Initializer, Search };

inline constexpr Kind kAllKinds[] = {Kind::Layer,     Kind::Loss,        Kind::Regularizer,
                                     Kind::Optimizer, Kind::Initializer, Kind::Search};

LAMINA_API std::string_view kind_name(Kind kind);  // "layer", "loss", ...

}  // namespace lamina
