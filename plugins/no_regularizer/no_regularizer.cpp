// The `none` regularizer: no penalty. Its use is a layer's `regularizer: none`, which exempts
// that layer from the model-wide regularizer.
#include <lamina/plugin.hpp>
#include <lamina/regularizer.hpp>

namespace lamina_none {

using namespace lamina;

class None final : public Regularizer {
 public:
  float penalty(const Param&) const override { return 0.0f; }
  void add_gradient(Param&) const override {}
};

void register_types(Registrar& r) {
  r.add<Regularizer>("none", "no penalty (a layer's `regularizer: none` opts out of the model's)", {},
                     [](const Config&) { return std::make_unique<None>(); });
}

}  // namespace lamina_none

LAMINA_PLUGIN("no_regularizer", LAMINA_VERSION_STRING, "The empty regularizer", lamina_none::register_types)
