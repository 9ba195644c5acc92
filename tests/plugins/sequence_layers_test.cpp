// The layers of sequence models against float64 loop references written from the papers'
// formulas: layernorm (Ba et al. 2016) over the last axis of (T, D) samples, forward and
// backward with non-trivial gamma and beta; gelu (Hendrycks & Gimpel 2016) exact and tanh forms
// with their derivatives.
#define BOOST_TEST_MODULE sequence_layers
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/gradcheck.hpp>
#include <lamina/layer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Layer> make(const std::string& spec, const Shape& sample) {
  auto layer = builtin_registry().create<Layer>(Config::parse(spec));
  Rng rng(1);
  BuildContext b{&rng, "layers.0"};
  layer->build(sample, b);
  return layer;
}

Tensor random(const Shape& shape, std::uint64_t seed, float scale = 1.0f) {
  Tensor t(shape);
  Rng rng(seed);
  for (auto& v : t.values()) v = rng.normal(0.0f, scale);
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(layernorm_equals_the_float64_reference_on_sequences) {
  const std::int64_t n = 3, t = 4, d = 6;
  auto layer = make("{type: layernorm, eps: 1.0e-3}", Shape{t, d});
  auto params = layer->params();
  BOOST_TEST_REQUIRE(params.size() == 2u);
  BOOST_TEST((params[0].value.shape() == Shape{d}));
  // gamma and beta away from 1 and 0, so a swapped or missing term shows.
  for (std::int64_t j = 0; j < d; ++j) {
    params[0].value[j] = 0.5f + 0.25f * static_cast<float>(j);
    params[1].value[j] = -0.3f + 0.1f * static_cast<float>(j);
  }
  const Tensor x = random(Shape{n, t, d}, 7, 2.0f), dy = random(Shape{n, t, d}, 8);
  Tensor y, dx;
  Rng rng(1);
  Context ctx{Mode::Train, &rng, true};
  layer->forward(x, y, ctx);
  layer->backward(dy, dx, ctx);
  BOOST_TEST_REQUIRE((y.shape() == x.shape()));
  BOOST_TEST_REQUIRE((dx.shape() == x.shape()));

  std::vector<double> dgamma(d, 0.0), dbeta(d, 0.0);
  double worst_y = 0, worst_dx = 0;
  for (std::int64_t r = 0; r < n * t; ++r) {
    const float* xr = x.data() + r * d;
    const float* gr = dy.data() + r * d;
    double mu = 0, var = 0;
    for (std::int64_t j = 0; j < d; ++j) mu += xr[j];
    mu /= d;
    for (std::int64_t j = 0; j < d; ++j) var += (xr[j] - mu) * (xr[j] - mu);
    var /= d;
    const double inv = 1.0 / std::sqrt(var + 1e-3);
    // dx_j = inv * (g_j - mean(g) - xhat_j * mean(g * xhat)), g = dy * gamma
    double mean_g = 0, mean_gx = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      const double xhat = (xr[j] - mu) * inv, g = gr[j] * static_cast<double>(params[0].value[j]);
      mean_g += g / d;
      mean_gx += g * xhat / d;
      dgamma[j] += gr[j] * xhat;
      dbeta[j] += gr[j];
      const double want = xhat * params[0].value[j] + params[1].value[j];
      worst_y = std::max(worst_y, std::abs(want - y[r * d + j]));
    }
    for (std::int64_t j = 0; j < d; ++j) {
      const double xhat = (xr[j] - mu) * inv, g = gr[j] * static_cast<double>(params[0].value[j]);
      worst_dx = std::max(worst_dx, std::abs(inv * (g - mean_g - xhat * mean_gx) - dx[r * d + j]));
    }
  }
  BOOST_TEST(worst_y < 1e-5, "max |y - reference| " << worst_y);
  BOOST_TEST(worst_dx < 1e-5, "max |dx - reference| " << worst_dx);
  for (std::int64_t j = 0; j < d; ++j) {
    BOOST_TEST(std::abs(dgamma[j] - params[0].grad[j]) < 1e-4, "dgamma " << j);
    BOOST_TEST(std::abs(dbeta[j] - params[1].grad[j]) < 1e-4, "dbeta " << j);
  }
  // Each row is normalized by itself: changing one position leaves the others' outputs alone.
  Tensor x2 = x.clone(), y2;
  for (std::int64_t j = 0; j < d; ++j) x2[j] += 5.0f;  // sample 0, position 0
  layer->forward(x2, y2, ctx);
  BOOST_TEST(std::equal(y.data() + d, y.data() + y.size(), y2.data() + d));
  for (const auto& r : check_layer_gradients(*builtin_registry().create<Layer>(Config::parse("layernorm")),
                                             Shape{t, d}, {})) {
    BOOST_TEST(r.ok, r.tensor << " max relative error " << r.max_error);
  }
}

BOOST_AUTO_TEST_CASE(gelu_equals_the_float64_reference_in_both_forms) {
  const Tensor x = random(Shape{5, 40}, 3, 2.5f), dy = random(Shape{5, 40}, 4);
  for (const bool approx : {false, true}) {
    auto layer = make(approx ? "{type: gelu, approximate: tanh}" : "gelu", Shape{40});
    Tensor y, dx;
    Rng rng(1);
    Context ctx{Mode::Train, &rng, true};
    layer->forward(x, y, ctx);
    layer->backward(dy, dx, ctx);
    double worst_y = 0, worst_dx = 0;
    for (std::int64_t i = 0; i < x.size(); ++i) {
      const double v = x[i];
      double want, slope;
      if (approx) {
        const double c = std::sqrt(2.0 / M_PI), u = c * (v + 0.044715 * v * v * v), th = std::tanh(u);
        want = 0.5 * v * (1 + th);
        slope = 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * c * (1 + 3 * 0.044715 * v * v);
      } else {
        want = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
        slope = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
      }
      worst_y = std::max(worst_y, std::abs(want - y[i]));
      worst_dx = std::max(worst_dx, std::abs(slope * dy[i] - dx[i]));
    }
    BOOST_TEST(worst_y < 2e-6, (approx ? "tanh" : "exact") << " max |y - reference| " << worst_y);
    BOOST_TEST(worst_dx < 2e-6, (approx ? "tanh" : "exact") << " max |dx - reference| " << worst_dx);
  }
  // The two forms differ (by 9.8e-5 at x = 2), so the key reaches the layer.
  auto exact = make("gelu", Shape{1}), tanh = make("{type: gelu, approximate: tanh}", Shape{1});
  Tensor one(Shape{1, 1}), a, b;
  one[0] = 2.0f;
  Rng rng(1);
  Context ctx{Mode::Eval, &rng, true};
  exact->forward(one, a, ctx);
  tanh->forward(one, b, ctx);
  BOOST_TEST(std::abs(a[0] - b[0]) > 5e-5);
}
