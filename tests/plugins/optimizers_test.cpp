// The first three steps of each optimizer on f(w) = w^2 (g = 2w) from w0 = 1, against values
// computed by hand from the update rules (derivations in the comments; eps terms change the
// figures below the 6th decimal).
#define BOOST_TEST_MODULE optimizers
#include <boost/test/unit_test.hpp>
#include <lamina/optimizer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

void expect_steps(const std::string& spec, std::vector<float> expected, bool decay = true) {
  auto opt = builtin_registry().create<Optimizer>(Config::parse(spec));
  Param p{"layers.0.W", Tensor(Shape{1}), Tensor(Shape{1}), decay};
  p.value[0] = 1.0f;
  Param* list[] = {&p};
  for (std::size_t t = 0; t < expected.size(); ++t) {
    p.grad[0] = 2.0f * p.value[0];
    opt->step(list);
    BOOST_TEST(p.value[0] == expected[t], spec << " step " << t + 1 << boost::test_tools::tolerance(2e-5f));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(momentum_steps) {
  // v1 = -0.1*2 = -0.2, w1 = 0.8;  v2 = 0.9*-0.2 - 0.1*1.6 = -0.34, w2 = 0.46;
  // v3 = 0.9*-0.34 - 0.1*0.92 = -0.398, w3 = 0.062
  expect_steps("{type: momentum, lr: 0.1, momentum: 0.9}", {0.8f, 0.46f, 0.062f});
}

BOOST_AUTO_TEST_CASE(nesterov_steps) {
  // w1 = 1 + 0.81*0 - 1.9*0.1*2 = 0.62, v1 = -0.2
  // w2 = 0.62 + 0.81*-0.2 - 1.9*0.1*1.24 = 0.2224, v2 = 0.9*-0.2 - 0.124 = -0.304
  // w3 = 0.2224 + 0.81*-0.304 - 1.9*0.1*0.4448 = -0.108352
  expect_steps("{type: nesterov, lr: 0.1, momentum: 0.9}", {0.62f, 0.2224f, -0.108352f});
}

BOOST_AUTO_TEST_CASE(adagrad_steps) {
  // h1 = 4, w1 = 1 - 0.1*2/2 = 0.9;  h2 = 4 + 3.24 = 7.24, w2 = 0.9 - 0.1*1.8/2.690725 = 0.8331035
  // h3 = 7.24 + 2.776271 = 10.016271, w3 = 0.8331035 - 0.1*1.666207/3.164850 = 0.7804562
  expect_steps("{type: adagrad, lr: 0.1}", {0.9f, 0.8331035f, 0.7804562f});
}

BOOST_AUTO_TEST_CASE(rmsprop_steps) {
  // h1 = 0.01*4 = 0.04, w1 = 1 - 0.01*2/0.2 = 0.9
  // h2 = 0.99*0.04 + 0.01*3.24 = 0.072, w2 = 0.9 - 0.01*1.8/0.268328 = 0.8329180
  // h3 = 0.99*0.072 + 0.01*2.775 = 0.0990301, w3 = 0.832918 - 0.01*1.665836/0.314690 = 0.7799824
  expect_steps("{type: rmsprop, lr: 0.01, decay: 0.99}", {0.9f, 0.832918f, 0.7799824f});
}

BOOST_AUTO_TEST_CASE(adam_steps) {
  // t=1: lr_t = 0.1*sqrt(0.001)/0.1 = 0.0316228; m = 0.2, v = 0.004; w1 = 1 - 0.0316228*0.2/0.0632456 = 0.9
  // t=2: g = 1.8, lr_t = 0.1*sqrt(1-0.998001)/0.19 = 0.0235314; m = 0.36, v = 0.0072366;
  //      w2 = 0.9 - 0.0235314*0.36/0.0850682 = 0.8004125
  // t=3: g = 1.600825, lr_t = 0.1*sqrt(0.002997)/0.271 = 0.0202010; m = 0.4840825, v = 0.0097925;
  //      w3 = 0.8004125 - 0.0202010*0.4840825/0.0989570 = 0.7015866
  expect_steps("{type: adam, lr: 0.1}", {0.9000002f, 0.8004125f, 0.7015866f});
}

BOOST_AUTO_TEST_CASE(adamw_decays_before_the_adam_step) {
  // As adam, but each step first does w -= 0.1*0.5*w: w1 = 0.95 - 0.1 = 0.85, then
  // w2 = 0.85*0.95 - 0.0235314*m2/sqrt(v2) with g1 = 1.7 -> 0.7082487, w3 = 0.5749743.
  expect_steps("{type: adamw, lr: 0.1, weight_decay: 0.5}", {0.8500002f, 0.7082487f, 0.5749743f});
  // Parameters not marked for decay (biases) get plain Adam.
  expect_steps("{type: adamw, lr: 0.1, weight_decay: 0.5}", {0.9000002f, 0.8004125f, 0.7015866f}, false);
}

// lr_mult scales each tensor's step (lamina/param.hpp): fed the same gradients, a tensor at
// 0.5 moves exactly half as far as one at 1 in every step, for SGD and for Adam, whose
// normalisation would cancel a halved gradient.
BOOST_AUTO_TEST_CASE(lr_mult_halves_the_step) {
  for (const char* spec : {"{type: sgd, lr: 0.1}", "{type: adam, lr: 0.1}", "{type: momentum, lr: 0.1}",
                           "{type: nesterov, lr: 0.1}", "{type: adagrad, lr: 0.1}", "{type: rmsprop, lr: 0.01}",
                           "{type: adamw, lr: 0.1, weight_decay: 0}"}) {
    auto full = builtin_registry().create<Optimizer>(Config::parse(spec));
    auto half = builtin_registry().create<Optimizer>(Config::parse(spec));
    Param a{"layers.0.W", Tensor(Shape{1}), Tensor(Shape{1}), true};
    Param b{"layers.0.W", Tensor(Shape{1}), Tensor(Shape{1}), true};
    b.lr_mult = 0.5f;
    Param* la[] = {&a};
    Param* lb[] = {&b};
    for (int t = 0; t < 3; ++t) {
      a.grad[0] = b.grad[0] = 2.0f - 0.5f * static_cast<float>(t);
      full->step(la);
      half->step(lb);
      // Values from zero, so halving is exact in float: every step of b is half of a's.
      BOOST_TEST(b.value[0] == 0.5f * a.value[0], spec << " step " << t + 1);
    }
    BOOST_TEST(a.value[0] != 0.0f, spec);
  }
  // Without lr_mult set, the arithmetic is the one of before (adam_steps above pins it).
  Param p{"layers.0.W", Tensor(Shape{1}), Tensor(Shape{1}), true};
  BOOST_TEST(p.lr_mult == 1.0f);
  BOOST_TEST(p.decay_mult == 1.0f);
  BOOST_TEST(p.trainable);
}

// AdamW's decoupled decay follows decay_mult: at 0 a tensor marked for decay moves as plain
// Adam; at 2 it decays as at weight_decay * 2.
BOOST_AUTO_TEST_CASE(adamw_decay_follows_decay_mult) {
  auto steps = [](const char* spec, float decay_mult) {
    auto opt = builtin_registry().create<Optimizer>(Config::parse(spec));
    Param p{"layers.0.W", Tensor(Shape{1}), Tensor(Shape{1}), true};
    p.decay_mult = decay_mult;
    p.value[0] = 1.0f;
    Param* list[] = {&p};
    for (int t = 0; t < 3; ++t) {
      p.grad[0] = 2.0f * p.value[0];
      opt->step(list);
    }
    return p.value[0];
  };
  BOOST_TEST(steps("{type: adamw, lr: 0.1, weight_decay: 0.5}", 0.0f) == steps("{type: adam, lr: 0.1}", 1.0f));
  BOOST_TEST(steps("{type: adamw, lr: 0.1, weight_decay: 0.5}", 2.0f) ==
             steps("{type: adamw, lr: 0.1, weight_decay: 1.0}", 1.0f));
}

BOOST_AUTO_TEST_CASE(state_is_per_parameter_name) {
  // Two parameters with different gradients keep separate velocities.
  auto opt = builtin_registry().create<Optimizer>(Config::parse("{type: momentum, lr: 1, momentum: 0.5}"));
  Param a{"layers.0.W", Tensor(Shape{1}), Tensor(Shape{1}), true};
  Param b{"layers.0.b", Tensor(Shape{1}), Tensor(Shape{1}), false};
  Param* list[] = {&a, &b};
  a.grad[0] = 1.0f;
  b.grad[0] = -1.0f;
  opt->step(list);  // va = -1, vb = 1
  opt->step(list);  // va = -1.5, vb = 1.5
  BOOST_TEST(a.value[0] == -2.5f);
  BOOST_TEST(b.value[0] == 2.5f);
}

BOOST_AUTO_TEST_CASE(bad_hyperparameters_are_refused) {
  for (const char* spec : {"{type: momentum, momentum: 1}", "{type: adam, beta1: 1.0}", "{type: rmsprop, decay: -0.1}",
                           "{type: adagrad, lr: 0}", "{type: adamw, weight_decay: -1}", "{type: nesterov, lr: -1}"}) {
    BOOST_CHECK_THROW(builtin_registry().create<Optimizer>(Config::parse(spec)), InputError);
  }
}
