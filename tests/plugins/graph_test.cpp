// Graph models through the real model builder and the built-in plugins: the gradient of a
// whole graph (branches, an output read by three layers, the input read twice, add, multiply,
// concat) against central differences; Eval passes (which share buffers by liveness) against
// Train passes; a chain written with explicit inputs against the same chain written plainly;
// and the merge types' own gradients on inputs of different shapes.
#define BOOST_TEST_MODULE graph
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/gradcheck.hpp>
#include <lamina/merge.hpp>

#include "runtime/model.hpp"
#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

const std::string kTail = "loss: softmax_cross_entropy\noptimizer: sgd\n";

Model built(const std::string& layers, const Shape& input) {
  Model m = build_model(ModelFile::parse("layers:\n" + layers + kTail, "g.yaml"), builtin_registry());
  Rng init(3, Rng::Stream::Init);
  m.network.build(input, init);
  return m;
}

Tensor random_tensor(const Shape& s, std::uint64_t seed) {
  Tensor t(s);
  Rng rng(seed);
  for (auto& v : t.values()) v = rng.normal(0.0f, 1.0f);
  return t;
}

// f = sum(y * r): the objective every gradient below is of.
double objective(Network& net, const Tensor& x, const Tensor& r) {
  Rng rng(1);
  Context ctx{Mode::Train, &rng, true};
  const Tensor& y = net.forward(x, ctx);
  double f = 0;
  for (std::int64_t i = 0; i < y.size(); ++i) f += static_cast<double>(y[i]) * r[i];
  return f;
}

// The largest relative error between backward's gradient and central differences over up to 40
// elements of `v` (spread evenly). Smooth layers only (tanh, average pooling): no kinks.
double worst_error(Network& net, const Tensor& x, const Tensor& r, Tensor& v, const Tensor& analytic) {
  const float h = 1e-2f;
  double worst = 0;
  const std::int64_t step = std::max<std::int64_t>(1, v.size() / 40);
  for (std::int64_t i = 0; i < v.size(); i += step) {
    const float keep = v[i];
    v[i] = keep + h;
    const double up = objective(net, x, r);
    v[i] = keep - h;
    const double down = objective(net, x, r);
    v[i] = keep;
    const double numeric = (up - down) / (2.0 * h), a = analytic[i];
    worst = std::max(worst, std::fabs(a - numeric) / std::max({std::fabs(a), std::fabs(numeric), 1e-2}));
  }
  return worst;
}

// Two branches from the input (a convolution, and the input itself pooled), one of them read by
// three later layers, a residual add, a gate (multiply), a concat along channels and the input
// read a second time by the concat.
const std::string kGraph =
    "  - {type: conv2d, filters: 2, kernel: 3, padding: same, name: a}\n"
    "  - {type: batchnorm}\n"
    "  - {type: tanh, name: t}\n"
    "  - {type: conv2d, filters: 2, kernel: 3, padding: same, name: c}\n"
    "  - {type: add, inputs: [a, c, a], name: sum}\n"
    "  - {type: sigmoid, inputs: [a], name: gate}\n"
    "  - {type: multiply, inputs: [sum, gate], name: gated}\n"
    "  - {type: concat, inputs: [gated, input, input], name: joined}\n"
    "  - {type: avg_pool2d, size: 2}\n"
    "  - {type: affine, units: 3}\n";

}  // namespace

BOOST_AUTO_TEST_CASE(the_gradient_of_a_whole_graph_matches_central_differences) {
  Model m = built(kGraph, Shape{1, 5, 5});
  Network& net = m.network;
  BOOST_TEST(net.inputs(4) == (std::vector<int>{0, 3, 0}));
  BOOST_TEST(net.inputs(7) == (std::vector<int>{6, Network::kInput, Network::kInput}));
  BOOST_TEST(net.output_shape(7).str() == "(4, 5, 5)");

  const Tensor x = random_tensor(Shape{3, 1, 5, 5}, 11);
  const Tensor r = random_tensor(Shape{3, 3}, 12);
  objective(net, x, r);
  Rng rng(1);
  Context ctx{Mode::Train, &rng, true};
  Tensor dx;
  net.backward(r, ctx, &dx);
  BOOST_TEST_REQUIRE(dx.shape().str() == x.shape().str());

  Tensor xv = x.clone();
  const double input_error = worst_error(net, xv, r, xv, dx);
  BOOST_TEST(input_error < 1e-2, "input: " << input_error);
  for (Param* p : net.params()) {
    const Tensor grad = p->grad.clone();
    const double e = worst_error(net, x, r, p->value, grad);
    BOOST_TEST(e < 1e-2, p->name << ": " << e);
  }
  BOOST_TEST(net.params().size() == 8u);  // two convolutions, batchnorm, affine: W and b each
}

BOOST_AUTO_TEST_CASE(eval_passes_share_buffers_and_give_what_train_passes_give) {
  // No batch statistics and no dropout: the two modes compute the same function, so any
  // buffer handed out while a later layer still needed it would show as a difference.
  std::string graph = kGraph;
  const std::string bn = "  - {type: batchnorm}\n";
  graph.replace(graph.find(bn), bn.size(), "  - {type: tanh}\n");
  Model m = built(graph, Shape{1, 5, 5});
  for (std::int64_t rows : {4, 7, 2}) {
    const Tensor x = random_tensor(Shape{rows, 1, 5, 5}, 20 + static_cast<std::uint64_t>(rows));
    Rng rng(1);
    Context train{Mode::Train, &rng, true}, eval{Mode::Eval, &rng, true};
    const Tensor y_train = m.network.forward(x, train).clone();
    const Tensor y_eval = m.network.forward(x, eval).clone();
    BOOST_TEST_REQUIRE(y_train.shape().str() == y_eval.shape().str());
    BOOST_TEST(std::equal(y_train.data(), y_train.data() + y_train.size(), y_eval.data()));
  }
}

BOOST_AUTO_TEST_CASE(a_chain_with_explicit_inputs_is_the_same_network) {
  const std::string plain =
      "  - {type: affine, units: 6}\n  - {type: relu}\n  - {type: dropout, ratio: 0.3}\n  - {type: affine, units: 3}\n";
  const std::string named =
      "  - {type: affine, units: 6, name: h, inputs: [input]}\n  - {type: relu, name: r, inputs: [h]}\n"
      "  - {type: dropout, ratio: 0.3, name: d, inputs: [r]}\n  - {type: affine, units: 3, inputs: [d]}\n";
  Model a = built(plain, Shape{5}), b = built(named, Shape{5});
  const Tensor x = random_tensor(Shape{4, 5}, 5), r = random_tensor(Shape{4, 3}, 6);
  Rng ra(9), rb(9);
  Context ca{Mode::Train, &ra, true}, cb{Mode::Train, &rb, true};
  const Tensor ya = a.network.forward(x, ca).clone(), yb = b.network.forward(x, cb).clone();
  BOOST_TEST(std::equal(ya.data(), ya.data() + ya.size(), yb.data()));
  a.network.backward(r, ca);
  b.network.backward(r, cb);
  const auto pa = a.network.params(), pb = b.network.params();
  BOOST_TEST_REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    BOOST_TEST(pa[i]->name == pb[i]->name);
    BOOST_TEST(std::equal(pa[i]->grad.data(), pa[i]->grad.data() + pa[i]->grad.size(), pb[i]->grad.data()));
  }
}

BOOST_AUTO_TEST_CASE(merges_pass_the_gradient_check_on_inputs_of_different_shapes) {
  auto check = [](const std::string& spec, std::vector<Shape> inputs) {
    auto merge = builtin_registry().create<Merge>(Config::parse(spec));
    GradCheckOptions o;
    o.batch = 3;
    for (const auto& r : check_merge_gradients(*merge, inputs, o)) BOOST_TEST(r.ok, spec << " " << r.tensor << " " << r.max_error);
  };
  check("{type: concat}", {Shape{2, 3, 3}, Shape{1, 3, 3}, Shape{3, 3, 3}});
  check("{type: concat, axis: -1}", {Shape{2, 3}, Shape{2, 4}});
  check("{type: concat, axis: 1}", {Shape{2, 1, 3}, Shape{2, 2, 3}});
  check("{type: add}", {Shape{4}, Shape{4}, Shape{4}});
  check("{type: multiply}", {Shape{2, 2, 2}, Shape{2, 2, 2}, Shape{2, 2, 2}});
}

BOOST_AUTO_TEST_CASE(concat_lays_the_inputs_side_by_side_along_its_axis) {
  auto concat = builtin_registry().create<Merge>(Config::parse("{type: concat, axis: 1}"));
  Rng init(1);
  BuildContext b{&init, "layers.0"};
  const Shape shapes[] = {Shape{2, 1, 2}, Shape{2, 2, 2}};
  BOOST_TEST(concat->build(shapes, b).str() == "(2, 3, 2)");
  Tensor x0(Shape{1, 2, 1, 2}), x1(Shape{1, 2, 2, 2}), y;
  for (std::int64_t i = 0; i < 4; ++i) x0[i] = static_cast<float>(i);         // 0 1 | 2 3
  for (std::int64_t i = 0; i < 8; ++i) x1[i] = static_cast<float>(10 + i);    // 10..13 | 14..17
  const Tensor* xs[] = {&x0, &x1};
  Rng rng(1);
  Context ctx{Mode::Eval, &rng, true};
  concat->forward(xs, y, ctx);
  const std::vector<float> expected{0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17};
  BOOST_TEST(std::vector<float>(y.data(), y.data() + y.size()) == expected, boost::test_tools::per_element());
}
