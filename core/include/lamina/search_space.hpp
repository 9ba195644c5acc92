// A search space and the values a sampler proposes in it: shared by the Sampler and Pruner
// interfaces (and the deprecated SearchStrategy).
#pragma once

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

}  // namespace lamina
