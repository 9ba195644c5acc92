// Network, Trainer and the model builder together, with the built plugins plus an in-test
// regularizer: parameter naming, the model-wide and per-layer regularizers, evaluation, NaN.
#define BOOST_TEST_MODULE trainer
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include "runtime/model.hpp"
#include <lamina/layer.hpp>
#include <lamina/regularizer.hpp>
#include "runtime/trainer.hpp"

#include "test_support.hpp"

using namespace lamina;
using namespace lamina::test;

namespace {

// penalty = lambda * sum W^2 (no 1/2, so the test can tell the formula apart from a real L2);
// counts its calls so the test can see which parameters it was given.
class SquareSum final : public Regularizer {
 public:
  explicit SquareSum(const Config& c) : lambda_(c.get<float>("lambda")) {}
  float penalty(const Param& p) const override {
    double s = 0;
    for (float v : p.value.values()) s += static_cast<double>(v) * v;
    return static_cast<float>(lambda_ * s);
  }
  void add_gradient(Param& p) const override {
    for (std::int64_t i = 0; i < p.value.size(); ++i) p.grad[i] += 2 * lambda_ * p.value[i];
    ++calls;
  }
  float lambda_;
  static inline int calls = 0;
};

// What an embedding does first: reads the batch's token ids from Context::input_ids (never the
// float input, which rounds ids of 2^24 and more) and gives each position's parity. Keeps every
// id it saw, so the test can compare them with the file's.
class TokenParity final : public Layer {
 public:
  Shape build(const Shape& input, BuildContext&) override { return input; }
  void forward(const Tensor& x, Tensor& y, Context& ctx) override {
    BOOST_REQUIRE(static_cast<std::int64_t>(ctx.input_ids.size()) == x.size());
    y.resize(x.shape());
    for (std::int64_t i = 0; i < x.size(); ++i) y[i] = static_cast<float>(ctx.input_ids[static_cast<std::size_t>(i)] % 2);
    seen.insert(seen.end(), ctx.input_ids.begin(), ctx.input_ids.end());
  }
  void backward(const Tensor& dy, Tensor& dx, Context&) override { dx.resize(dy.shape()); }
  static inline std::vector<std::int32_t> seen;
};

// The identity, recording each backward call's place and whether it was asked for dx.
class Probe final : public Layer {
 public:
  explicit Probe(const Config& c) : id_(c.get<std::int64_t>("id")) {}
  Shape build(const Shape& input, BuildContext&) override { return input; }
  void forward(const Tensor& x, Tensor& y, Context&) override { y.copy_from(x); }
  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    calls.emplace_back(id_, ctx.need_input_grad);
    if (ctx.need_input_grad) dx.copy_from(dy);
  }
  std::int64_t id_;
  static inline std::vector<std::pair<std::int64_t, bool>> calls;
};

Registry& registry() {
  static Registry& r = [&]() -> Registry& {
    Registry& reg = builtin_registry();
    reg.add<Regularizer>("square_sum", "lambda * sum W^2", {Key::number("lambda", "strength").def(0.1).at_least(0)},
                         [](const Config& c) { return std::make_unique<SquareSum>(c); });
    reg.add<Layer>("token_parity", "the parity of each token id", {},
                   [](const Config&) { return std::make_unique<TokenParity>(); });
    reg.add<Layer>("probe", "the identity, recording its backward calls", {Key::integer("id", "its number").def(0)},
                   [](const Config& c) { return std::make_unique<Probe>(c); });
    return reg;
  }();
  return r;
}

const std::string kData = "data: {source: idx, train_images: " + (kDataDir / "tiny-images-idx3-ubyte").string() +
                          ", train_labels: " + (kDataDir / "tiny-labels-idx1-ubyte").string() +
                          ", test_images: " + (kDataDir / "tiny-images-idx3-ubyte").string() +
                          ", test_labels: " + (kDataDir / "tiny-labels-idx1-ubyte").string() + "}\n";

struct Built {
  Model model;
  DataSplits data;
};

Built build(const std::string& yaml) {
  Built b{build_model(ModelFile::parse(yaml, "model.yaml"), registry()), {}};
  b.data = load_data(b.model.data, b.model.train.seed);
  build_network(b.model, b.data);
  return b;
}

}  // namespace

BOOST_AUTO_TEST_CASE(parameters_are_named_by_their_place) {
  Built b = build(kData +
                  "layers:\n  - {type: affine, units: 4}\n  - {type: relu}\n  - {type: affine, units: 3}\n"
                  "loss: softmax_cross_entropy\noptimizer: sgd\n");
  std::vector<std::string> names;
  for (auto* p : b.model.network.params()) names.push_back(p->name);
  BOOST_TEST(names == (std::vector<std::string>{"layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"}),
             boost::test_tools::per_element());
  BOOST_TEST(b.model.network.parameter_count() == 6 * 4 + 4 + 4 * 3 + 3);
}

BOOST_AUTO_TEST_CASE(model_regularizer_acts_on_decayed_params_and_a_layer_may_override_it) {
  Built b = build(kData +
                  "layers:\n  - {type: affine, units: 4}\n  - {type: relu}\n"
                  "  - {type: affine, units: 3, regularizer: {type: square_sum, lambda: 0.0}}\n"
                  "loss: softmax_cross_entropy\nregularizer: {type: square_sum, lambda: 0.5}\n"
                  "optimizer: sgd\ntrain: {epochs: 1, batch_size: 6}\n");
  Trainer trainer(b.model, b.data);
  // Expected penalty: only layers.0.W at lambda 0.5 (biases are not decayed; layers.2 has its
  // own regularizer with lambda 0).
  auto params = b.model.network.params();
  double expected = 0;
  for (float v : params[0]->value.values()) expected += 0.5 * static_cast<double>(v) * v;
  BOOST_TEST(trainer.penalty() == expected, boost::test_tools::tolerance(1e-5));
  SquareSum::calls = 0;
  const auto history = trainer.run();
  BOOST_TEST(SquareSum::calls == 2);  // one batch: layers.0.W and layers.2.W, never a bias
  BOOST_TEST(history.size() == 1u);
  BOOST_TEST(history[0].penalty > 0.0);
}

BOOST_AUTO_TEST_CASE(the_regularizer_gradient_reaches_the_update) {
  // With lr 1 and a huge lambda, one step must shrink the weights hard: W1 = W0 - (g + 2 lambda W0).
  const std::string tail =
      "loss: softmax_cross_entropy\noptimizer: {type: sgd, lr: 0.1}\n"
      "train: {epochs: 1, batch_size: 6, train_metrics: running}\n";
  Built plain = build(kData + "layers:\n  - {type: affine, units: 3}\n" + tail);
  Built decayed =
      build(kData + "layers:\n  - {type: affine, units: 3}\nregularizer: {type: square_sum, lambda: 2.0}\n" + tail);
  const std::vector<float> w0(plain.model.network.params()[0]->value.values().begin(),
                              plain.model.network.params()[0]->value.values().end());
  Trainer(plain.model, plain.data).run();
  Trainer(decayed.model, decayed.data).run();
  const Tensor& wp = plain.model.network.params()[0]->value;
  const Tensor& wd = decayed.model.network.params()[0]->value;
  for (std::size_t i = 0; i < w0.size(); ++i) {
    // Same start (same seed), same data gradient; the decayed one also moved by -0.1 * 4 * w0.
    BOOST_TEST(wd[static_cast<std::int64_t>(i)] == wp[static_cast<std::int64_t>(i)] - 0.4f * w0[i],
               boost::test_tools::tolerance(1e-4f));
  }
}

// A frozen tensor (trainable false) keeps its value bit for bit through training, gets no
// optimizer state and no regularizer gradient; the others train as before. lr_mult 0.5 on one
// tensor halves each SGD step on it.
BOOST_AUTO_TEST_CASE(frozen_and_scaled_parameters) {
  const std::string yaml = kData +
                           "layers:\n  - {type: affine, units: 4}\n  - {type: relu}\n  - {type: affine, units: 3}\n"
                           "loss: softmax_cross_entropy\nregularizer: {type: square_sum, lambda: 0.5}\n"
                           "optimizer: {type: momentum, lr: 0.1}\ntrain: {epochs: 3, batch_size: 2}\n";
  Built b = build(yaml);
  auto params = b.model.network.params();
  params[0]->trainable = false;  // layers.0.W
  const Tensor w0 = params[0]->value.clone(), w2 = params[2]->value.clone();
  SquareSum::calls = 0;
  Trainer(b.model, b.data).run();
  BOOST_TEST(std::equal(w0.values().begin(), w0.values().end(), params[0]->value.values().begin()));
  BOOST_TEST(!std::equal(w2.values().begin(), w2.values().end(), params[2]->value.values().begin()));
  BOOST_TEST(SquareSum::calls == 3 * 3);  // layers.2.W only, 3 batches of 3 epochs
  std::vector<Buffer> state;
  b.model.optimizer->save_state(state);
  for (const auto& s : state) BOOST_TEST(s.name.rfind("layers.0.W", 0) != 0, s.name);
  BOOST_TEST(state.size() == 3u);  // the velocities of layers.0.b, layers.2.W, layers.2.b

  // One SGD step of lr 1 on a single affine layer: with lr_mult 0.5 on W the step on W is half.
  const std::string one = kData + "layers:\n  - {type: affine, units: 3}\nloss: softmax_cross_entropy\n"
                                  "optimizer: {type: sgd, lr: 1}\ntrain: {epochs: 1, batch_size: 6}\n";
  Built full = build(one), half = build(one);
  half.model.network.params()[0]->lr_mult = 0.5f;
  const Tensor start = full.model.network.params()[0]->value.clone();
  Trainer(full.model, full.data).run();
  Trainer(half.model, half.data).run();
  const Tensor& wf = full.model.network.params()[0]->value;
  const Tensor& wh = half.model.network.params()[0]->value;
  float moved = 0;
  for (std::int64_t i = 0; i < start.size(); ++i) moved = std::max(moved, std::abs(wf[i] - start[i]));
  BOOST_TEST(moved > 1e-3f);  // it did move
  for (std::int64_t i = 0; i < start.size(); ++i) {
    // (to the rounding of a weight near 1: the steps are differences of such values)
    BOOST_TEST(std::abs((wh[i] - start[i]) - 0.5f * (wf[i] - start[i])) <= 1e-6f, i);
  }
  // the bias kept lr_mult 1: the same step in both
  BOOST_TEST(full.model.network.params()[1]->value[0] == half.model.network.params()[1]->value[0]);
}

BOOST_AUTO_TEST_CASE(training_reduces_the_loss_and_evaluation_is_consistent) {
  Built b = build(kData +
                  "layers:\n  - {type: affine, units: 8}\n  - {type: tanh}\n  - {type: affine, units: 3}\n"
                  "loss: softmax_cross_entropy\noptimizer: {type: sgd, lr: 0.5}\n"
                  "train: {epochs: 40, batch_size: 2}\n");
  Trainer trainer(b.model, b.data);
  const Evaluation before = trainer.evaluate(b.data.test);
  const auto history = trainer.run();
  BOOST_TEST(history.back().train.loss < before.loss);
  // Train and test are the same file here, so the two evaluations must agree exactly.
  BOOST_TEST(history.back().train.loss == history.back().test.loss);
  BOOST_TEST(history.back().train.metric("accuracy") == history.back().test.metric("accuracy"));
  const Evaluation again = trainer.evaluate(b.data.test);
  BOOST_TEST(again.loss == history.back().test.loss, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(a_nan_loss_throws_diverged) {
  Built b = build(kData +
                  "layers:\n  - {type: affine, units: 3, init: {type: normal, std: 1000}}\n"
                  "loss: softmax_cross_entropy\noptimizer: {type: sgd, lr: 1e38}\n"
                  "train: {epochs: 5, batch_size: 1}\n");
  Trainer trainer(b.model, b.data);
  BOOST_CHECK_THROW(trainer.run(), Diverged);
}

// Token ids travel as integers from the npy source to the first layer, in training and in
// evaluation: ids around 2^24 and 2^31, whose floats cannot tell an even id from the odd one
// next to it, are learned by their parity (the label), and every id the layer saw is the file's.
BOOST_AUTO_TEST_CASE(token_ids_reach_the_first_layer_exactly) {
  TempDir dir;
  std::vector<std::int64_t> ids;  // 40 samples of T = 2, int64 as numpy.save writes them
  std::vector<std::int64_t> labels;
  const std::int64_t bases[] = {16777216, 2147483646, 33554432, 0};
  for (int i = 0; i < 40; ++i) {
    const std::int64_t id = bases[i % 4] + (i / 4) % 2;
    ids.push_back(id);
    ids.push_back(i);
    labels.push_back(id % 2);
  }
  auto npy = [](const fs::path& file, const std::string& shape, const std::vector<std::int64_t>& v) {
    std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string bytes(v.size() * 8, '\0');
    std::memcpy(bytes.data(), v.data(), bytes.size());  // little endian, as on every target here
    write_file(file, std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header + bytes);
  };
  npy(dir / "x.npy", "(40, 2)", ids);
  npy(dir / "y.npy", "(40,)", labels);
  const std::string x = (dir / "x.npy").string(), y = (dir / "y.npy").string();
  Built b = build("data: {source: npy, train_x: " + x + ", train_y: " + y + ", test_x: " + x + ", test_y: " + y +
                  "}\nlayers:\n  - {type: token_parity}\n  - {type: affine, units: 2}\n"
                  "loss: softmax_cross_entropy\noptimizer: {type: sgd, lr: 1}\ntrain: {epochs: 30, batch_size: 8}\n");
  TokenParity::seen.clear();
  Trainer trainer(b.model, b.data);
  const auto history = trainer.run();
  BOOST_TEST(history.back().test.metric("accuracy") == 1.0);
  // Every id of the file, seen once per training epoch and once per evaluation of the split.
  std::vector<std::int32_t> seen = TokenParity::seen, expected;
  for (std::int64_t v : ids) expected.push_back(static_cast<std::int32_t>(v));
  std::sort(seen.begin(), seen.end());
  std::sort(expected.begin(), expected.end());
  BOOST_REQUIRE(!seen.empty());
  BOOST_REQUIRE(seen.size() % expected.size() == 0);
  const std::size_t rounds = seen.size() / expected.size();
  std::vector<std::int32_t> repeated;
  for (std::int32_t v : expected) repeated.insert(repeated.end(), rounds, v);
  BOOST_TEST(seen == repeated, boost::test_tools::per_element());
  BOOST_TEST(std::count(seen.begin(), seen.end(), 2147483647) > 0);
}

// Gradients are only worth computing where a parameter lies behind: the parameter-free layers
// before the first affine are not called back, the layer after them is not asked for dx, and a
// caller that wants the input's gradient gets every call.
BOOST_AUTO_TEST_CASE(backward_stops_where_no_parameter_lies_behind) {
  Built b = build(kData +
                  "layers:\n  - {type: probe, id: 0}\n  - {type: probe, id: 1}\n  - {type: affine, units: 4}\n"
                  "  - {type: probe, id: 3}\n  - {type: affine, units: 3}\n"
                  "loss: softmax_cross_entropy\noptimizer: sgd\n");
  Tensor x(Shape{2, 1, 2, 3}), dscores(Shape{2, 3}), dx;
  x.fill(0.5f);
  dscores.fill(0.1f);
  Rng rng(1);
  Context ctx{Mode::Train, &rng, true};
  b.model.network.forward(x, ctx);
  Probe::calls.clear();
  b.model.network.backward(dscores, ctx);
  BOOST_TEST((Probe::calls == std::vector<std::pair<std::int64_t, bool>>{{3, true}}));
  // layers.2's weights still get their gradient (the affine's input gradient is not needed).
  bool moved = false;
  for (float v : b.model.network.params()[0]->grad.values()) moved = moved || v != 0.0f;
  BOOST_TEST(moved);
  Probe::calls.clear();
  b.model.network.forward(x, ctx);
  b.model.network.backward(dscores, ctx, &dx);
  BOOST_TEST((Probe::calls == std::vector<std::pair<std::int64_t, bool>>{{3, true}, {1, true}, {0, true}}));
  BOOST_TEST((dx.shape() == x.shape()));
}
