#define BOOST_TEST_MODULE regularizers
#include <boost/test/unit_test.hpp>
#include <lamina/gradcheck.hpp>
#include <lamina/regularizer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Regularizer> make(const std::string& spec) {
  return builtin_registry().create<Regularizer>(Config::parse(spec));
}

Param weights() {
  Param p{"layers.0.W", Tensor(Shape{2, 2}), Tensor(Shape{2, 2}), true};
  const float w[] = {1.0f, -2.0f, 0.5f, 0.0f};
  std::copy(std::begin(w), std::end(w), p.value.data());
  return p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(l2_penalty_and_gradient) {
  auto l2 = make("{type: l2, lambda: 0.1}");
  Param p = weights();
  // 0.5 * 0.1 * (1 + 4 + 0.25 + 0) = 0.2625
  BOOST_TEST(l2->penalty(p) == 0.2625f, boost::test_tools::tolerance(1e-6f));
  p.grad.fill(1.0f);
  l2->add_gradient(p);  // adds 0.1 * W to what is there
  BOOST_TEST(p.grad[0] == 1.1f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(p.grad[1] == 0.8f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(p.grad[3] == 1.0f);
  BOOST_TEST(check_regularizer_gradients(*l2, Shape{3, 3}, {}).ok);
}

BOOST_AUTO_TEST_CASE(l1_penalty_and_gradient) {
  auto l1 = make("{type: l1, lambda: 0.1}");
  Param p = weights();
  // 0.1 * (1 + 2 + 0.5 + 0) = 0.35
  BOOST_TEST(l1->penalty(p) == 0.35f, boost::test_tools::tolerance(1e-6f));
  l1->add_gradient(p);  // 0.1 * sign(W), 0 at W = 0
  BOOST_TEST(p.grad[0] == 0.1f);
  BOOST_TEST(p.grad[1] == -0.1f);
  BOOST_TEST(p.grad[3] == 0.0f);
  auto strong = make("{type: l1, lambda: 0.5}");
  BOOST_TEST(check_regularizer_gradients(*strong, Shape{3, 3}, {}).ok);
}

// decay_mult scales a regularizer's strength on one tensor (lamina/param.hpp).
BOOST_AUTO_TEST_CASE(decay_mult_scales_the_strength) {
  for (const char* type : {"l1", "l2"}) {
    auto at = [&](float lambda) { return make(std::string("{type: ") + type + ", lambda: " + std::to_string(lambda) + "}"); };
    Param scaled = weights(), plain = weights();
    scaled.decay_mult = 0.5f;
    BOOST_TEST(at(0.2f)->penalty(scaled) == at(0.1f)->penalty(plain), type << boost::test_tools::tolerance(1e-6f));
    at(0.2f)->add_gradient(scaled);
    at(0.1f)->add_gradient(plain);
    for (std::int64_t i = 0; i < plain.grad.size(); ++i) BOOST_TEST(scaled.grad[i] == plain.grad[i], type << " " << i);
    Param off = weights();
    off.decay_mult = 0.0f;
    BOOST_TEST(at(0.2f)->penalty(off) == 0.0f, type);
  }
}

BOOST_AUTO_TEST_CASE(none_does_nothing) {
  auto none = make("none");
  Param p = weights();
  BOOST_TEST(none->penalty(p) == 0.0f);
  none->add_gradient(p);
  for (float g : p.grad.values()) BOOST_TEST(g == 0.0f);
}

BOOST_AUTO_TEST_CASE(defaults_and_bad_values) {
  Param p = weights();
  BOOST_TEST(make("l2")->penalty(p) == 0.5f * 1e-4f * 5.25f, boost::test_tools::tolerance(1e-5f));
  BOOST_CHECK_THROW(make("{type: l2, lambda: -1}"), InputError);
  BOOST_CHECK_THROW(make("{type: l1, alpha: 1}"), InputError);
}
