// A search space and the values a sampler proposes in it: shared by the Sampler and Pruner
// interfaces.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace lamina {

struct Dimension {
  enum class Type { Uniform, LogUniform, IntUniform, Choice };
  std::string path;  // a dotted path into the model, "optimizer.lr"
  Type type = Type::Uniform;
  double lo = 0, hi = 0;             // numeric types: the range (LogUniform: lo > 0)
  std::vector<std::string> choices;  // Choice: the values, as YAML text
};

struct SearchSpace {
  std::vector<Dimension> dims;
};

// One value of one dimension: the YAML text written into the model, and its number (for
// numeric dimensions; a Choice's index otherwise) for narrowing and plots.
struct Value {
  std::string text;
  double number = 0;
};

// A number of dimension `d` as the Value a sampler proposes: an integer whole, a choice (its
// index) as the choice's text, a real with 6 significant digits. Every sampler writes values
// this way, so that the same number gives the same text (and model) whichever sampler drew it.
inline Value value_of(const Dimension& d, double number) {
  switch (d.type) {
    case Dimension::Type::IntUniform:
      return {std::to_string(static_cast<long long>(number)), number};
    case Dimension::Type::Choice:
      return {d.choices.at(static_cast<std::size_t>(number)), number};
    case Dimension::Type::Uniform:
    case Dimension::Type::LogUniform:
      break;
  }
  std::ostringstream s;
  s.precision(6);
  s << number;
  return {s.str(), number};
}

}  // namespace lamina
