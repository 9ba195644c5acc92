// Merge layers: the joins of a graph model (`inputs: [a, b]` in `layers:`).
#include <lamina/plugin.hpp>

#include "merges.hpp"

namespace {

void register_types(lamina::Registrar& r) {
  lamina_merge::register_elementwise(r);
  lamina_merge::register_concat(r);
}

}  // namespace

LAMINA_PLUGIN("merge", LAMINA_VERSION_STRING, "Merge layers: add, multiply, concat", register_types)
