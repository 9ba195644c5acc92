#define BOOST_TEST_MODULE softmax_ce
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/gradcheck.hpp>
#include <lamina/loss.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {
std::unique_ptr<Loss> make() { return builtin_registry().create<Loss>(Config::parse("{type: softmax_cross_entropy}")); }
}  // namespace

BOOST_AUTO_TEST_CASE(gradient_matches_central_differences) {
  auto loss = make();
  GradCheckOptions o;
  o.batch = 6;
  const auto r = check_loss_gradients(*loss, 5, o);
  BOOST_TEST(r.ok, "max relative error " << r.max_error);
  BOOST_TEST(r.checked == 30);
}

BOOST_AUTO_TEST_CASE(uniform_scores_give_log_c) {
  auto loss = make();
  Tensor s(Shape{2, 10});
  const std::vector<std::int32_t> labels{3, 7};
  BOOST_TEST(loss->forward(s, labels) == std::log(10.0f), boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(matches_the_textbook_formula) {
  auto loss = make();
  Tensor s(Shape{1, 3});
  s[0] = 1.0f;
  s[1] = 2.0f;
  s[2] = 3.0f;
  const std::vector<std::int32_t> labels{0};
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  BOOST_TEST(loss->forward(s, labels) == static_cast<float>(-std::log(std::exp(1.0) / z)),
             boost::test_tools::tolerance(1e-6f));
  Tensor d;
  loss->backward(d);
  BOOST_TEST(d[0] == static_cast<float>(std::exp(1.0) / z - 1.0), boost::test_tools::tolerance(1e-5f));
  BOOST_TEST(d[2] == static_cast<float>(std::exp(3.0) / z), boost::test_tools::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(huge_scores_stay_finite) {
  auto loss = make();
  Tensor s(Shape{2, 3});
  s[0] = 1e30f;  // a confident right answer
  s[4] = 1e30f;  // a confident wrong answer (label 0, score on class 1)
  const std::vector<std::int32_t> labels{0, 0};
  const float l = loss->forward(s, labels);
  BOOST_TEST(std::isfinite(l));
  BOOST_TEST(l == 0.5f * 1e30f, boost::test_tools::tolerance(1e-6f));
  Tensor d;
  loss->backward(d);
  for (float v : d.values()) BOOST_TEST(std::isfinite(v));
}

BOOST_AUTO_TEST_CASE(labels_outside_the_classes_are_errors) {
  auto loss = make();
  Tensor s(Shape{1, 3});
  const std::vector<std::int32_t> labels{3};
  BOOST_CHECK_THROW(loss->forward(s, labels), Error);
}
