// The pruners plugin: none, asha and median.
#include <lamina/plugin.hpp>

#include "asha.hpp"
#include "median.hpp"

namespace lamina_pruners {

using namespace lamina;

// Never stops a trial: what a search without `pruning:` does, named.
class None final : public Pruner {
 public:
  bool decides_at(std::int64_t) const override { return false; }
  bool should_prune(const Trial&, std::span<const Trial>) override { return false; }
};

void register_types(Registrar& r) {
  r.add<Pruner>("none", "never stops a trial", {}, [](const Config&) { return std::make_unique<None>(); });
  r.add<Pruner>(
      "asha", "successive halving: at rungs of epochs, keep the top 1/reduction of the trials there",
      {Key::integer("min_epochs", "the first rung; later rungs at min_epochs * reduction^k").def(1).at_least(1),
       Key::integer("reduction", "keep the top 1/reduction at each rung").def(3).at_least(2).at_most(100)},
      [](const Config& c) {
        return std::make_unique<Asha>(c.get<std::int64_t>("min_epochs"), c.get<std::int64_t>("reduction"));
      });
  r.add<Pruner>(
      "median", "the median stopping rule: stop a trial whose best score is below the median at its epoch",
      {Key::integer("warmup_epochs", "epochs a trial always runs before it can be stopped").def(0).at_least(0),
       Key::integer("min_trials", "earlier trials that must have reached the epoch before any stop")
           .def(5)
           .at_least(1)},
      [](const Config& c) {
        return std::make_unique<Median>(c.get<std::int64_t>("warmup_epochs"), c.get<std::int64_t>("min_trials"));
      });
}

}  // namespace lamina_pruners

LAMINA_PLUGIN("pruners", LAMINA_VERSION_STRING, "Search pruners: none, asha and median", lamina_pruners::register_types)
