// The embedding API as a host program uses it, linked against liblamina_embed alone (not the
// runtime): components by type, a model from YAML, errors as Lamina errors.
#define BOOST_TEST_MODULE embed
#include <boost/test/unit_test.hpp>
#include <lamina/embed.hpp>
#include <lamina/error.hpp>
#include <lamina/layer.hpp>
#include <lamina/optimizer.hpp>

#include <cmath>

using namespace lamina;

namespace {
// The build tree's plugins: the built-in folder is beside liblamina_sdk, so this is found as is.
embed::Host& host() {
  static embed::Host h;
  return h;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_harness_creates_one_component_by_type_and_calls_it) {
  auto relu = host().create<Layer>("{type: relu}");
  Rng rng(1);
  BuildContext b{&rng, "relu"};
  BOOST_TEST(relu->build(Shape{3}, b).str() == "(3)");
  Tensor x(Shape{2, 3}), y;
  for (std::int64_t i = 0; i < 6; ++i) x[i] = static_cast<float>(i) - 2.5f;
  Context ctx{Mode::Eval, &rng, true};
  relu->forward(x, y, ctx);
  for (std::int64_t i = 0; i < 6; ++i) BOOST_TEST(y[i] == std::max(0.0f, x[i]));

  auto sgd = host().create<Optimizer>("{type: sgd, lr: 0.5}");
  Param p{"w", Tensor(Shape{2}), Tensor(Shape{2}), true};
  p.value.fill(1.0f);
  p.grad.fill(1.0f);
  Param* list[] = {&p};
  sgd->step(list);
  BOOST_TEST(p.value[0] == 0.5f);

  BOOST_TEST(host().plugins().size() >= 10u);
  bool affine = false;
  for (const auto& t : host().types()) affine = affine || (t.name == "affine" && t.kind == Kind::Layer);
  BOOST_TEST(affine);
}

BOOST_AUTO_TEST_CASE(keys_are_checked_and_errors_are_lamina_errors) {
  try {
    host().create<Layer>("{type: affine, unitz: 3}");
    BOOST_FAIL("an unknown key was accepted");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()).find("did you mean 'units'") != std::string::npos, e.what());
  }
  BOOST_CHECK_THROW(host().create<Layer>("{type: no_such_layer}"), InputError);
  BOOST_CHECK_THROW(host().create<Optimizer>("relu"), InputError);  // a layer, not an optimizer
  BOOST_CHECK_THROW(host().load_run("/nonexistent/run"), InputError);
}

BOOST_AUTO_TEST_CASE(a_model_from_yaml_runs_on_the_host_s_tensors) {
  embed::Model m = host().load_model(LAMINA_TEST_MODELS_DIR "/mlp.yaml", Shape{784});
  BOOST_TEST(m.classes() == 10);
  BOOST_TEST(m.input_scale() == 1.0f / 255.0f);
  Tensor x(Shape{3, 784});
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 256);
  const Tensor p = m.predict_raw(x);
  BOOST_TEST(p.rows() == 3);
  for (std::int64_t i = 0; i < 3; ++i) {
    double sum = 0;
    for (std::int64_t j = 0; j < 10; ++j) sum += p[i * 10 + j];
    BOOST_TEST(sum == 1.0, boost::test_tools::tolerance(1e-5));
  }
  // The same inputs scaled by hand give the same probabilities through predict().
  Tensor scaled(Shape{3, 784});
  for (std::int64_t i = 0; i < x.size(); ++i) scaled[i] = x[i] * m.input_scale();
  const Tensor q = m.predict(scaled);
  for (std::int64_t i = 0; i < q.size(); ++i) BOOST_TEST(q[i] == p[i]);
  BOOST_CHECK_THROW(m.predict(Tensor(Shape{3, 783})), InputError);
}
