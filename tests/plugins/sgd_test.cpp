#define BOOST_TEST_MODULE sgd
#include <boost/test/unit_test.hpp>
#include <lamina/optimizer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {
std::unique_ptr<Optimizer> make(const std::string& yaml) {
  return builtin_registry().create<Optimizer>(Config::parse(yaml));
}
}  // namespace

BOOST_AUTO_TEST_CASE(first_steps_follow_w_minus_lr_g) {
  // f(w) = 0.5 * (w - 3)^2, g = w - 3, lr = 0.1, w0 = 0:
  //   w1 = 0 - 0.1 * (-3)      = 0.3
  //   w2 = 0.3 - 0.1 * (-2.7)  = 0.57
  //   w3 = 0.57 - 0.1 * (-2.43) = 0.813
  auto opt = make("{type: sgd, lr: 0.1}");
  Param p{"layers.0.W", Tensor(Shape{1}), Tensor(Shape{1}), true};
  Param* list[] = {&p};
  const float expected[] = {0.3f, 0.57f, 0.813f};
  for (float e : expected) {
    p.grad[0] = p.value[0] - 3.0f;
    opt->step(list);
    BOOST_TEST(p.value[0] == e, boost::test_tools::tolerance(1e-6f));
  }
}

BOOST_AUTO_TEST_CASE(default_learning_rate_is_the_texts) {
  auto opt = make("sgd");
  Param p{"w", Tensor(Shape{2}), Tensor(Shape{2}), false};
  p.grad.fill(1.0f);
  Param* list[] = {&p};
  opt->step(list);
  BOOST_TEST(p.value[0] == -0.01f);
}

BOOST_AUTO_TEST_CASE(descends_on_a_quadratic_bowl) {
  auto opt = make("{type: sgd, lr: 0.2}");
  Param p{"w", Tensor(Shape{3}), Tensor(Shape{3}), false};
  p.value[0] = 5;
  p.value[1] = -4;
  p.value[2] = 1;
  Param* list[] = {&p};
  for (int i = 0; i < 100; ++i) {
    for (int j = 0; j < 3; ++j) p.grad[j] = static_cast<float>(j + 1) * p.value[j];  // f = sum (j+1)/2 w_j^2
    opt->step(list);
  }
  for (float v : p.value.values()) BOOST_TEST(std::abs(v) < 1e-4f);
}

BOOST_AUTO_TEST_CASE(learning_rate_must_be_positive) {
  BOOST_CHECK_THROW(make("{type: sgd, lr: 0}"), InputError);
  BOOST_CHECK_THROW(make("{type: sgd, lr: -1}"), InputError);
  BOOST_CHECK_THROW(make("{type: sgd, momentum: 0.9}"), InputError);
}
