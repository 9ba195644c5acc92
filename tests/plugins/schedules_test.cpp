// The built-in learning-rate schedules, factor by factor, against values worked out by hand.
#define BOOST_TEST_MODULE schedules
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/schedule.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {
std::unique_ptr<Schedule> make(const std::string& spec) {
  return builtin_registry().create<Schedule>(Config::parse(spec));
}
// Step `step` (0-based) of a run of `epochs` epochs of `per_epoch` steps.
TrainStep at(std::int64_t step, std::int64_t per_epoch, std::int64_t epochs) {
  return {step, step / per_epoch + 1, per_epoch, epochs};
}
}  // namespace

BOOST_AUTO_TEST_CASE(constant_step_and_exponential) {
  BOOST_TEST(make("constant")->factor(at(37, 10, 5)) == 1.0);
  auto step = make("{type: step, every: 2, factor: 0.5}");
  BOOST_TEST(step->factor(at(0, 10, 9)) == 1.0);    // epoch 1
  BOOST_TEST(step->factor(at(19, 10, 9)) == 1.0);   // epoch 2
  BOOST_TEST(step->factor(at(20, 10, 9)) == 0.5);   // epoch 3
  BOOST_TEST(step->factor(at(40, 10, 9)) == 0.25);  // epoch 5
  auto exp = make("{type: exponential, gamma: 0.9}");
  BOOST_TEST(exp->factor(at(0, 10, 5)) == 1.0);
  BOOST_TEST(exp->factor(at(35, 10, 5)) == 0.9 * 0.9 * 0.9, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(cosine_warms_up_linearly_then_decays_to_min_factor) {
  // 4 epochs of 10 steps, 1 epoch of warm-up: steps 0..9 go 0.1, 0.2, ... 1.0; then 30 steps
  // of cosine from 1 down towards 0.2.
  auto c = make("{type: cosine, warmup_epochs: 1, min_factor: 0.2}");
  BOOST_TEST(c->factor(at(0, 10, 4)) == 0.1, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c->factor(at(9, 10, 4)) == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c->factor(at(10, 10, 4)) == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c->factor(at(25, 10, 4)) == 0.2 + 0.8 * 0.5, boost::test_tools::tolerance(1e-12));  // half-way
  const double last = c->factor(at(39, 10, 4));
  BOOST_TEST(last == 0.2 + 0.8 * 0.5 * (1 + std::cos(M_PI * 29.0 / 30.0)), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(last > 0.2);
  auto plain = make("cosine");
  BOOST_TEST(plain->factor(at(0, 10, 4)) == 1.0);
  BOOST_TEST(plain->factor(at(39, 10, 4)) > 0.0);  // never 0 at a step that is taken
}

BOOST_AUTO_TEST_CASE(reduce_on_plateau_waits_out_its_patience_and_stops_at_the_floor) {
  auto r = make("{type: reduce_on_plateau, patience: 1, factor: 0.5, min_factor: 0.2}");
  const double losses[] = {1.0, 0.8, 0.8, 0.9, 0.85, 0.9, 0.95, 0.99, 0.99};
  std::vector<double> factors;
  for (int e = 0; e < 9; ++e) {
    factors.push_back(r->factor({e * 10, e + 1, 10, 9}));
    const MetricValue loss{"loss", false, losses[e], losses[e], losses[e]};
    r->end_epoch({e + 1, std::span(&loss, 1)});
  }
  // Best 0.8 at epoch 2; epochs 3 and 4 without improvement (> patience 1): 0.5 from epoch 5;
  // 5, 6 none: 0.25 from epoch 7; 7, 8 none: 0.2 (the floor, not 0.125) from epoch 9.
  const std::vector<double> expected{1, 1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.2};
  for (int e = 0; e < 9; ++e) {
    BOOST_TEST(std::abs(factors[e] - expected[e]) < 1e-6, "epoch " << e + 1 << ": " << factors[e]);
  }
  BOOST_TEST(r->factor({90, 10, 10, 10}) == 0.2, boost::test_tools::tolerance(1e-6));
  // Without a validation split there is nothing to watch: a clear error.
  auto blind = make("reduce_on_plateau");
  const MetricValue no_val{"loss", false, 1.0, NAN, 1.0};
  BOOST_CHECK_THROW(blind->end_epoch({1, std::span(&no_val, 1)}), InputError);
}

BOOST_AUTO_TEST_CASE(bad_keys_are_refused_naming_the_key) {
  for (const char* spec : {"{type: step, factor: -0.5}", "{type: exponential, gamma: 0}",
                           "{type: cosine, min_factor: 1}", "{type: reduce_on_plateau, metric: accuracy}",
                           "{type: cosine, warmup: 2}"}) {
    BOOST_CHECK_THROW(make(spec), InputError);
  }
}
