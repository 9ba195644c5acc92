// Patterns over tensors' stable names, for train.params' `match` and init_from's `tensors`:
// `*` stands for any run of characters, dots included (`layers.*.b`, `layers.stem*`); every
// other character stands for itself. A tensor answers to its index name (`layers.3.W`) and,
// when its layer has a `name:`, to that name as well (`layers.stem.W`), so a pattern may use
// either (README, "Starting from a trained run").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lamina::detail {

// Whether `pattern` matches all of `name`; `captures` (when given) receives what each `*`
// stood for, each as short as the rest of the match allows.
bool match_name(std::string_view pattern, std::string_view name, std::vector<std::string>* captures = nullptr);
// `pattern` with its `*`s replaced by `captures`, in order (a `*` past the last capture: "").
std::string fill_pattern(std::string_view pattern, const std::vector<std::string>& captures);
// "layers.3.W" -> "layers.stem.W" when layer 3 is named `stem`; "" when it has no name.
std::string named_alias(const std::string& name, const std::vector<std::string>& layer_names);
// What is wrong with a pattern as written ("" when nothing): empty, longer than 200 characters.
std::string pattern_problem(std::string_view pattern);
// The number of `*` in a pattern.
std::size_t wildcards(std::string_view pattern);

}  // namespace lamina::detail
