#define BOOST_TEST_MODULE affine
#include <boost/test/unit_test.hpp>
#include <lamina/eigen.hpp>
#include <lamina/error.hpp>
#include <lamina/gradcheck.hpp>
#include <lamina/layer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {
std::unique_ptr<Layer> make(const std::string& yaml) { return builtin_registry().create<Layer>(Config::parse(yaml)); }
}  // namespace

BOOST_AUTO_TEST_CASE(gradients_match_central_differences) {
  for (const char* spec : {"{type: affine, units: 3}", "{type: affine, units: 4, bias: false}",
                           "{type: affine, units: 2, init: {type: normal, std: 0.5}}"}) {
    auto layer = make(spec);
    for (const auto& r : check_layer_gradients(*layer, Shape{5}, {})) {
      BOOST_TEST(r.ok, spec << " " << r.tensor << " max relative error " << r.max_error);
    }
  }
}

BOOST_AUTO_TEST_CASE(flattens_its_input_and_computes_xw_plus_b) {
  auto layer = make("{type: affine, units: 2}");
  Rng rng(1);
  BuildContext bctx{&rng, "layers.0"};
  BOOST_TEST(layer->build(Shape{2, 2}, bctx).str() == "(2)");
  auto params = layer->params();
  BOOST_REQUIRE(params.size() == 2u);
  BOOST_TEST(params[0].name == "W");
  BOOST_TEST(params[0].decay);
  BOOST_TEST(params[0].value.shape().str() == "(4, 2)");
  BOOST_TEST(params[1].name == "b");
  BOOST_TEST(!params[1].decay);
  for (int i = 0; i < 8; ++i) params[0].value[i] = static_cast<float>(i);  // W = [[0,1],[2,3],[4,5],[6,7]]
  params[1].value[0] = 0.5f;
  params[1].value[1] = -1.0f;
  Tensor x(Shape{1, 2, 2});
  for (int i = 0; i < 4; ++i) x[i] = 1.0f + static_cast<float>(i);  // x = [1,2,3,4]
  Tensor y;
  Context ctx{Mode::Train, &rng, true};
  layer->forward(x, y, ctx);
  BOOST_TEST(y.shape().str() == "(1, 2)");
  BOOST_TEST(y[0] == 0 * 1 + 2 * 2 + 4 * 3 + 6 * 4 + 0.5f);  // 40.5
  BOOST_TEST(y[1] == 1 * 1 + 3 * 2 + 5 * 3 + 7 * 4 - 1.0f);  // 49
}

BOOST_AUTO_TEST_CASE(he_init_has_the_right_spread_and_zero_bias) {
  auto layer = make("{type: affine, units: 400}");
  Rng rng(3);
  BuildContext bctx{&rng, "layers.0"};
  layer->build(Shape{200}, bctx);
  const Tensor& w = layer->params()[0].value;
  double sum = 0, sq = 0;
  for (float v : w.values()) {
    sum += v;
    sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(w.size());
  const double std = std::sqrt(sq / n - (sum / n) * (sum / n));
  BOOST_TEST(std == std::sqrt(2.0 / 200.0), boost::test_tools::tolerance(0.02));
  for (float v : layer->params()[1].value.values()) BOOST_TEST(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(forward_reuses_buffers_across_batches) {
  auto layer = make("{type: affine, units: 8}");
  Rng rng(1);
  BuildContext bctx{&rng, "layers.0"};
  layer->build(Shape{4}, bctx);
  Tensor x(Shape{10, 4}), y, dx;
  Context ctx{Mode::Train, &rng, true};
  layer->forward(x, y, ctx);
  layer->backward(y, dx, ctx);
  const float* yp = y.data();
  const float* dxp = dx.data();
  Tensor small(Shape{3, 4});
  layer->forward(small, y, ctx);
  layer->backward(y, dx, ctx);
  BOOST_TEST(y.data() == yp);
  BOOST_TEST(dx.data() == dxp);
  BOOST_TEST(y.shape().str() == "(3, 8)");
}

BOOST_AUTO_TEST_CASE(bad_options_are_input_errors) {
  BOOST_CHECK_THROW(make("{type: affine}"), InputError);
  BOOST_CHECK_THROW(make("{type: affine, units: -3}"), InputError);
  BOOST_CHECK_THROW(make("{type: affine, units: 3, init: nope}"), InputError);
  BOOST_CHECK_THROW(make("{type: affine, units: 3, init: {type: normal, std: -1}}"), InputError);
  // Sizes that fit the key's range but not memory fail at build, before allocating.
  auto huge = make("{type: affine, units: 1000000}");
  Rng rng(1);
  BuildContext bctx{&rng, "layers.0"};
  BOOST_CHECK_THROW(huge->build(Shape{100000}, bctx), InputError);
}
