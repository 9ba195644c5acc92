// The element-wise activations: one plugin registering several layer types.
#include <lamina/plugin.hpp>

#include "elementwise.hpp"
#include "rules.hpp"

namespace lamina_activations {

using lamina::Config;
using lamina::Layer;

template <class Rule>
void add(lamina::Registrar& r, const char* name, const char* summary) {
  r.add<Layer>(name, summary, {}, [](const Config&) { return std::make_unique<Elementwise<Rule>>(); });
}

void register_types(lamina::Registrar& r) {
  add<Relu>(r, "relu", "rectified linear unit y = max(0, x)");
  add<Sigmoid>(r, "sigmoid", "logistic sigmoid y = 1 / (1 + exp(-x))");
  add<Tanh>(r, "tanh", "hyperbolic tangent y = tanh(x)");
}

}  // namespace lamina_activations

LAMINA_PLUGIN("activations", LAMINA_VERSION_STRING, "Element-wise activations: relu, sigmoid, tanh",
              lamina_activations::register_types)
