#define BOOST_TEST_MODULE activations
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/gradcheck.hpp>
#include <lamina/layer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Layer> make(const std::string& type) {
  return builtin_registry().create<Layer>(Config::parse("{type: " + type + "}"));
}

std::vector<float> activate(const std::string& type, const std::vector<float>& in) {
  auto layer = make(type);
  Rng rng(1);
  BuildContext bctx{&rng, "l"};
  layer->build(Shape{static_cast<std::int64_t>(in.size())}, bctx);
  Tensor x(Shape{1, static_cast<std::int64_t>(in.size())}), y;
  std::copy(in.begin(), in.end(), x.data());
  Context ctx{Mode::Eval, &rng, true};
  layer->forward(x, y, ctx);
  return {y.data(), y.data() + y.size()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(gradients_match_central_differences) {
  for (const char* type : {"relu", "sigmoid", "tanh"}) {
    auto layer = make(type);
    const auto results = check_layer_gradients(*layer, Shape{3, 4}, {});
    BOOST_TEST(results.size() == 1u);  // the input only: no parameters
    for (const auto& r : results) BOOST_TEST(r.ok, type << " max relative error " << r.max_error);
  }
}

BOOST_AUTO_TEST_CASE(values_match_the_definitions) {
  const std::vector<float> x{-2.0f, -0.5f, 0.0f, 0.5f, 3.0f};
  const auto relu = activate("relu", x);
  const auto sig = activate("sigmoid", x);
  const auto th = activate("tanh", x);
  for (std::size_t i = 0; i < x.size(); ++i) {
    BOOST_TEST(relu[i] == std::max(0.0f, x[i]));
    BOOST_TEST(sig[i] == 1.0f / (1.0f + std::exp(-x[i])), boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(th[i] == std::tanh(x[i]), boost::test_tools::tolerance(1e-6f));
  }
}

BOOST_AUTO_TEST_CASE(sigmoid_saturates_without_overflow) {
  const auto s = activate("sigmoid", {-1000.0f, 1000.0f});
  BOOST_TEST(s[0] == 0.0f);
  BOOST_TEST(s[1] == 1.0f);
  BOOST_TEST(std::isfinite(s[0]));
}

BOOST_AUTO_TEST_CASE(they_take_no_keys) {
  BOOST_CHECK_THROW(builtin_registry().create<Layer>(Config::parse("{type: relu, slope: 0.1}")), InputError);
}
