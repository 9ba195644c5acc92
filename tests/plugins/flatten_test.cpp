#define BOOST_TEST_MODULE flatten
#include <boost/test/unit_test.hpp>
#include <lamina/gradcheck.hpp>
#include <lamina/layer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

BOOST_AUTO_TEST_CASE(a_shaped_sample_becomes_its_row_major_vector_and_back) {
  auto layer = builtin_registry().create<Layer>(Config::parse("flatten"));
  Rng rng(1);
  BuildContext b{&rng, "layers.0"};
  BOOST_TEST(layer->build(Shape{2, 3, 4}, b).str() == "(24)");
  Tensor x(Shape{5, 2, 3, 4}), y, dx;
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  Context ctx{Mode::Train, &rng, true};
  layer->forward(x, y, ctx);
  BOOST_TEST(y.shape().str() == "(5, 24)");
  for (std::int64_t i = 0; i < y.size(); ++i) BOOST_TEST(y[i] == static_cast<float>(i));  // sample 1, element 0 is x[1][0][0][0]
  layer->backward(y, dx, ctx);
  BOOST_TEST(dx.shape().str() == "(5, 2, 3, 4)");
  for (std::int64_t i = 0; i < dx.size(); ++i) BOOST_TEST(dx[i] == x[i]);
}

BOOST_AUTO_TEST_CASE(gradients_match_central_differences) {
  auto layer = builtin_registry().create<Layer>(Config::parse("flatten"));
  for (const auto& r : check_layer_gradients(*layer, Shape{3, 2}, {})) BOOST_TEST(r.ok, r.tensor);
}
