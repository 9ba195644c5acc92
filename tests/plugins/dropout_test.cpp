#define BOOST_TEST_MODULE dropout
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/gradcheck.hpp>
#include <lamina/layer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Layer> make(const std::string& spec) {
  auto layer = builtin_registry().create<Layer>(Config::parse(spec));
  Rng rng(1);
  BuildContext b{&rng, "layers.0"};
  layer->build(Shape{1000}, b);
  return layer;
}

Tensor ones(std::int64_t n) {
  Tensor x(Shape{n, 1000});
  x.fill(1.0f);
  return x;
}

}  // namespace

BOOST_AUTO_TEST_CASE(gradient_with_the_replayed_mask_matches_central_differences) {
  for (const char* spec : {"{type: dropout, ratio: 0.3}", "{type: dropout, ratio: 0.3, variant: scale_at_eval}"}) {
    auto layer = builtin_registry().create<Layer>(Config::parse(spec));
    for (const auto& r : check_layer_gradients(*layer, Shape{20}, {})) BOOST_TEST(r.ok, spec << " " << r.tensor);
  }
}

BOOST_AUTO_TEST_CASE(keeps_about_one_minus_ratio_and_preserves_the_expected_activation) {
  auto d = make("{type: dropout, ratio: 0.2}");
  Rng rng(7);
  Context ctx{Mode::Train, &rng, true};
  Tensor x = ones(50), y;
  d->forward(x, y, ctx);
  std::int64_t kept = 0;
  double sum = 0;
  for (float v : y.values()) {
    kept += v != 0.0f;
    sum += v;
    BOOST_TEST_REQUIRE((v == 0.0f || std::abs(v - 1.25f) < 1e-6f));  // inverted: 1/(1-0.2)
  }
  const double n = static_cast<double>(y.size());
  BOOST_TEST(static_cast<double>(kept) / n == 0.8, boost::test_tools::tolerance(0.01));
  BOOST_TEST(sum / n == 1.0, boost::test_tools::tolerance(0.01));  // E[y] = x
}

BOOST_AUTO_TEST_CASE(eval_is_the_identity_or_the_texts_scaling) {
  Rng rng(7);
  Context eval{Mode::Eval, &rng, true};
  Tensor x = ones(2), y;
  make("{type: dropout, ratio: 0.4}")->forward(x, y, eval);
  for (float v : y.values()) BOOST_TEST(v == 1.0f);
  make("{type: dropout, ratio: 0.4, variant: scale_at_eval}")->forward(x, y, eval);
  for (float v : y.values()) BOOST_TEST(v == 0.6f, boost::test_tools::tolerance(1e-6f));
  // The text's form does not scale in training.
  Context train{Mode::Train, &rng, true};
  make("{type: dropout, ratio: 0.4, variant: scale_at_eval}")->forward(x, y, train);
  for (float v : y.values()) BOOST_TEST_REQUIRE((v == 0.0f || v == 1.0f));
}

BOOST_AUTO_TEST_CASE(backward_passes_only_through_kept_units) {
  auto d = make("{type: dropout, ratio: 0.5}");
  Rng rng(3);
  Context ctx{Mode::Train, &rng, true};
  Tensor x = ones(4), y, dx;
  d->forward(x, y, ctx);
  Tensor dy = ones(4);
  d->backward(dy, dx, ctx);
  for (std::int64_t i = 0; i < y.size(); ++i) BOOST_TEST_REQUIRE(dx[i] == y[i]);  // both are mask * 2
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_masks_and_a_new_forward_a_new_mask) {
  auto d = make("dropout");
  Tensor x = ones(3), y1, y2, y3;
  Rng r1(11, Rng::Stream::Layers), r2(11, Rng::Stream::Layers);
  Context c1{Mode::Train, &r1, true}, c2{Mode::Train, &r2, true};
  d->forward(x, y1, c1);
  d->forward(x, y2, c2);
  BOOST_TEST(std::equal(y1.data(), y1.data() + y1.size(), y2.data()));
  d->forward(x, y3, c1);
  BOOST_TEST(!std::equal(y1.data(), y1.data() + y1.size(), y3.data()));
}

BOOST_AUTO_TEST_CASE(ratio_must_be_in_zero_to_one) {
  BOOST_CHECK_THROW(make("{type: dropout, ratio: 1}"), InputError);
  BOOST_CHECK_THROW(make("{type: dropout, ratio: -0.1}"), InputError);
  BOOST_CHECK_THROW(make("{type: dropout, variant: bernoulli}"), InputError);
  BOOST_CHECK_NO_THROW(make("{type: dropout, ratio: 0}"));
}
