// The samplers plugin: random and tpe.
#include <lamina/plugin.hpp>

#include "random.hpp"
#include "tpe.hpp"

namespace lamina_samplers {

using namespace lamina;

void register_types(Registrar& r) {
  r.add<Sampler>("random", "independent uniform draws per dimension (log_uniform on the exponent)", {},
                 [](const Config&) { return std::make_unique<RandomSampler>(); });
  r.add<Sampler>(
      "tpe", "Tree-structured Parzen Estimator: proposes where good trials are dense and bad ones sparse",
      {Key::integer("startup_trials", "finished trials seen before the model is used (random until then)")
           .def(10)
           .at_least(0)
           .at_most(100000),
       Key::integer("candidates",
                    "values (whole points when multivariate) drawn from the good trials' density; the best ratio wins")
           .def(24)
           .at_least(1)
           .at_most(10000),
       Key::number("gamma", "the fraction of the trials seen counted as good").def(0.25).above(0).below(1),
       Key::boolean("multivariate",
                    "model the dimensions jointly (one kernel per trial over all of them); false: each alone")
           .def(true)},
      [](const Config& c) {
        return std::make_unique<TpeSampler>(TpeOptions{c.get<std::int64_t>("startup_trials"),
                                                       c.get<std::int64_t>("candidates"), c.get<double>("gamma"),
                                                       c.get<bool>("multivariate")});
      });
}

}  // namespace lamina_samplers

LAMINA_PLUGIN("samplers", LAMINA_VERSION_STRING, "Search samplers: random and TPE", lamina_samplers::register_types)
