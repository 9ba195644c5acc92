// "Did you mean" for unknown keys and type names.
#pragma once

#include "internal.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace lamina::detail {

// The closest candidate within a small edit distance, or "" if none is close.
LAMINA_INTERNAL std::string closest(std::string_view word, const std::vector<std::string>& candidates);
// " (did you mean 'units'?)" or "".
LAMINA_INTERNAL std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
LAMINA_INTERNAL std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

}  // namespace lamina::detail
