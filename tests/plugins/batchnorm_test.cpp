#define BOOST_TEST_MODULE batchnorm
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/gradcheck.hpp>
#include <lamina/layer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Layer> make(const std::string& spec, std::int64_t d) {
  auto layer = builtin_registry().create<Layer>(Config::parse(spec));
  Rng rng(1);
  BuildContext b{&rng, "layers.0"};
  layer->build(Shape{d}, b);
  return layer;
}

}  // namespace

BOOST_AUTO_TEST_CASE(gradients_in_train_mode_match_central_differences) {
  for (std::int64_t batch : {4, 7}) {
    auto layer = builtin_registry().create<Layer>(Config::parse("batchnorm"));
    GradCheckOptions o;
    o.batch = batch;
    for (const auto& r : check_layer_gradients(*layer, Shape{5}, o)) {
      BOOST_TEST(r.ok, "batch " << batch << " " << r.tensor << " max relative error " << r.max_error);
    }
  }
}

BOOST_AUTO_TEST_CASE(gradients_in_eval_mode_match_central_differences) {
  auto layer = builtin_registry().create<Layer>(Config::parse("batchnorm"));
  GradCheckOptions o;
  o.mode = Mode::Eval;
  for (const auto& r : check_layer_gradients(*layer, Shape{3}, o)) BOOST_TEST(r.ok, r.tensor);
}

BOOST_AUTO_TEST_CASE(params_and_state_have_the_documented_roles) {
  auto bn = make("batchnorm", 3);
  auto params = bn->params();
  BOOST_TEST(params[0].name == "gamma");
  BOOST_TEST(params[1].name == "beta");
  BOOST_TEST(!params[0].decay);
  BOOST_TEST(!params[1].decay);
  for (float v : params[0].value.values()) BOOST_TEST(v == 1.0f);
  for (float v : params[1].value.values()) BOOST_TEST(v == 0.0f);
  auto state = bn->state();
  BOOST_TEST(state[0].name == "running_mean");
  BOOST_TEST(state[1].name == "running_var");
  for (float v : state[0].value.values()) BOOST_TEST(v == 0.0f);
  for (float v : state[1].value.values()) BOOST_TEST(v == 1.0f);
}

BOOST_AUTO_TEST_CASE(train_output_has_zero_mean_and_unit_variance_per_feature) {
  auto bn = make("batchnorm", 4);
  Rng rng(5);
  Tensor x(Shape{64, 4}), y;
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = rng.normal(3.0f + static_cast<float>(i % 4), 2.0f);
  Context ctx{Mode::Train, &rng, true};
  bn->forward(x, y, ctx);
  for (int f = 0; f < 4; ++f) {
    double s = 0, sq = 0;
    for (int n = 0; n < 64; ++n) {
      s += y[n * 4 + f];
      sq += static_cast<double>(y[n * 4 + f]) * y[n * 4 + f];
    }
    BOOST_TEST(std::abs(s / 64) < 1e-5);
    BOOST_TEST(sq / 64 == 1.0, boost::test_tools::tolerance(1e-4));  // var/(var + 1e-6), biased
  }
}

BOOST_AUTO_TEST_CASE(running_statistics_follow_the_momentum_rule_and_eval_uses_them) {
  auto bn = make("{type: batchnorm, momentum: 0.8, eps: 0.01}", 1);
  Rng rng(1);
  Context train{Mode::Train, &rng, true};
  Tensor y;
  // Batch 1: {1, 3} -> mean 2, biased var 1.  Batch 2: {0, 4, 8} -> mean 4, var 32/3.
  Tensor b1(Shape{2, 1}), b2(Shape{3, 1});
  b1[0] = 1;
  b1[1] = 3;
  b2[0] = 0;
  b2[1] = 4;
  b2[2] = 8;
  bn->forward(b1, y, train);
  bn->forward(b2, y, train);
  // mean: 0 -> 0.8*0 + 0.2*2 = 0.4 -> 0.8*0.4 + 0.2*4 = 1.12
  // var:  1 -> 0.8*1 + 0.2*1 = 1.0 -> 0.8*1.0 + 0.2*32/3 = 2.933333
  auto state = bn->state();
  BOOST_TEST(state[0].value[0] == 1.12f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(state[1].value[0] == 2.9333333f, boost::test_tools::tolerance(1e-6f));
  // Eval: (x - 1.12) / sqrt(2.933333 + 0.01), whatever the batch.
  Context eval{Mode::Eval, &rng, true};
  Tensor x(Shape{1, 1});
  x[0] = 5.0f;
  bn->forward(x, y, eval);
  BOOST_TEST(y[0] == (5.0f - 1.12f) / std::sqrt(2.9433333f), boost::test_tools::tolerance(1e-5f));
  // Eval does not move the running statistics.
  BOOST_TEST(state[0].value[0] == 1.12f, boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(a_batch_of_one_in_training_is_a_clear_error) {
  auto bn = make("batchnorm", 3);
  Rng rng(1);
  Context train{Mode::Train, &rng, true};
  Tensor x(Shape{1, 3}), y;
  try {
    bn->forward(x, y, train);
    BOOST_FAIL("no error");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()).find("at least 2 samples per batch") != std::string::npos);
  }
  Context eval{Mode::Eval, &rng, true};
  BOOST_CHECK_NO_THROW(bn->forward(x, y, eval));
}

BOOST_AUTO_TEST_CASE(momentum_is_validated) {
  BOOST_CHECK_THROW(builtin_registry().create<Layer>(Config::parse("{type: batchnorm, momentum: 1}")), InputError);
  BOOST_CHECK_THROW(builtin_registry().create<Layer>(Config::parse("{type: batchnorm, eps: 0}")), InputError);
}
