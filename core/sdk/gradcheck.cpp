#include "lamina/gradcheck.hpp"

#include "lamina/error.hpp"
#include "merge_as_layer.hpp"

#include <algorithm>
#include <cmath>

namespace lamina {
namespace {

void fill_away_from_zero(Tensor& t, Rng& rng, float min_abs) {
  for (auto& v : t.values()) {
    const float mag = min_abs + (1.0f - min_abs) * rng.uniform();
    v = rng.uniform() < 0.5f ? -mag : mag;
  }
}

double relative_error(double a, double n, double floor) {
  return std::fabs(a - n) / std::max({std::fabs(a), std::fabs(n), floor});
}

// Central differences of f over the elements of `v`, compared with `analytic`. An element whose
// two one-sided differences disagree sits on a kink of f within one step (the winner of a
// max-pooling window changes, a ReLU crosses 0): no derivative exists there to compare, so it
// is skipped. The threshold is twice the tolerance: a kink the test lets through bends the
// slope by less than that, which moves the central difference by less than the tolerance. A
// smooth f has one-sided differences within about step * f''/f' of each other (0.01 for a
// sigmoid at step 0.01). A wrong analytic gradient is still caught at every other element.
template <class F>
GradCheckResult compare(const std::string& name, Tensor& v, const Tensor& analytic, const GradCheckOptions& o, F&& f) {
  GradCheckResult r;
  r.tensor = name;
  const std::int64_t n = v.size();
  const std::int64_t stride = std::max<std::int64_t>(1, n / o.max_checks);
  const double centre = f();
  for (std::int64_t i = 0; i < n; i += stride) {
    const float saved = v[i];
    v[i] = saved + o.step;
    const double up = f();
    v[i] = saved - o.step;
    const double down = f();
    v[i] = saved;
    const double right = up - centre, left = centre - down;
    if (std::fabs(right - left) > 2 * o.tolerance * std::max({std::fabs(right), std::fabs(left), o.floor * o.step})) continue;
    const double numeric = (up - down) / (2.0 * static_cast<double>(o.step));
    r.max_error = std::max(r.max_error, relative_error(analytic[i], numeric, o.floor));
    ++r.checked;
  }
  r.ok = r.checked > 0 && r.max_error <= o.tolerance;
  return r;
}

}  // namespace

std::vector<GradCheckResult> check_merge_gradients(Merge& merge, std::span<const Shape> inputs,
                                                  const GradCheckOptions& options) {
  std::vector<Shape> shapes(inputs.begin(), inputs.end());
  detail::MergeAsLayer layer(merge, shapes);
  return check_layer_gradients(layer, detail::MergeAsLayer::stacked(shapes), options);
}

// The checks on a built layer and its input x: random output weights r, the objective sum(y * r)
// replayed with the same random stream, central differences of it against one backward. Token
// ids (non-empty `ids`, also in x's values) have no gradient: only the parameters are checked.
namespace {

std::vector<GradCheckResult> check_built(Layer& layer, Tensor& x, std::span<const std::int32_t> ids, Rng& data_rng,
                                         const GradCheckOptions& o) {
  const bool input_grad = ids.empty();
  const Rng stream(o.seed, Rng::Stream::Layers);
  Rng run_rng = stream;
  Context ctx{o.mode, &run_rng, input_grad, nullptr, ids};
  Tensor y, dx;
  layer.forward(x, y, ctx);
  Tensor r(y.shape());
  fill_away_from_zero(r, data_rng, 0.1f);

  auto objective = [&] {
    Rng replay = stream;
    Context c{o.mode, &replay, input_grad, nullptr, ids};
    Tensor out;
    layer.forward(x, out, c);
    double s = 0;
    for (std::int64_t i = 0; i < out.size(); ++i) s += static_cast<double>(out[i]) * static_cast<double>(r[i]);
    return s;
  };

  // Analytic gradients from one forward/backward with the replayed stream.
  run_rng = stream;
  layer.forward(x, y, ctx);
  layer.backward(r, dx, ctx);
  std::vector<Tensor> grads;
  for (auto& p : layer.params()) grads.push_back(p.grad.clone());
  const Tensor dx_analytic = dx.clone();

  std::vector<GradCheckResult> results;
  if (input_grad) results.push_back(compare("input", x, dx_analytic, o, objective));
  std::size_t i = 0;
  for (auto& p : layer.params()) results.push_back(compare(p.name, p.value, grads[i++], o, objective));
  return results;
}

}  // namespace

std::vector<GradCheckResult> check_layer_gradients(Layer& layer, const Shape& sample_shape, const GradCheckOptions& o) {
  Rng data_rng(o.seed, Rng::Stream::User);
  Rng init_rng(o.seed, Rng::Stream::Init);
  BuildContext bctx{&init_rng, "layer"};
  layer.build(sample_shape, bctx);
  Tensor x(sample_shape.batched(o.batch));
  fill_away_from_zero(x, data_rng, o.input_min_abs);
  return check_built(layer, x, {}, data_rng, o);
}

std::vector<GradCheckResult> check_layer_gradients_on_ids(Layer& layer, const Shape& sample_shape,
                                                          std::int64_t vocabulary, const GradCheckOptions& o) {
  if (vocabulary < 1) throw InputError("check_layer_gradients_on_ids: the vocabulary needs at least one id");
  Rng data_rng(o.seed, Rng::Stream::User);
  Rng init_rng(o.seed, Rng::Stream::Init);
  BuildContext bctx{&init_rng, "layer"};
  layer.build(sample_shape, bctx);
  Tensor x(sample_shape.batched(o.batch));
  std::vector<std::int32_t> ids(static_cast<std::size_t>(x.size()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<std::int32_t>(data_rng.below(static_cast<std::uint64_t>(vocabulary)));
    x[static_cast<std::int64_t>(i)] = static_cast<float>(ids[i]);
  }
  return check_built(layer, x, ids, data_rng, o);
}

GradCheckResult check_loss_gradients(Loss& loss, TargetKind kind, std::int64_t outputs, const GradCheckOptions& o) {
  Rng rng(o.seed, Rng::Stream::User);
  // A class per position: three positions, so that the mean over them is checked too.
  const std::int64_t positions = kind == TargetKind::ClassPerPosition ? 3 : 1;
  Tensor scores(kind == TargetKind::ClassPerPosition ? Shape{o.batch, positions, outputs} : Shape{o.batch, outputs});
  for (auto& v : scores.values()) v = rng.normal(0.0f, 2.0f);
  std::vector<std::int32_t> classes;
  std::vector<float> values;
  Targets t{kind, o.batch, kind == TargetKind::Class ? 1 : positions, {}, {}};
  switch (kind) {
    case TargetKind::Class:
    case TargetKind::ClassPerPosition:
      classes.resize(static_cast<std::size_t>(o.batch * positions));
      for (auto& l : classes) l = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(outputs)));
      t.classes = classes;
      break;
    case TargetKind::MultiLabel:
      values.resize(static_cast<std::size_t>(o.batch * outputs));
      for (auto& v : values) v = static_cast<float>(rng.below(2));
      t.width = outputs;
      t.values = values;
      break;
    case TargetKind::Regression:
      values.resize(static_cast<std::size_t>(o.batch * outputs));
      for (auto& v : values) v = rng.normal(0.0f, 2.0f);
      t.width = outputs;
      t.values = values;
      break;
    case TargetKind::ClassProbabilities:  // rows of positive numbers scaled to sum to 1
      values.resize(static_cast<std::size_t>(o.batch * outputs));
      for (auto& v : values) v = rng.uniform() + 0.05f;
      for (std::int64_t i = 0; i < o.batch; ++i) {
        float sum = 0;
        for (std::int64_t k = 0; k < outputs; ++k) sum += values[static_cast<std::size_t>(i * outputs + k)];
        for (std::int64_t k = 0; k < outputs; ++k) values[static_cast<std::size_t>(i * outputs + k)] /= sum;
      }
      t.width = outputs;
      t.values = values;
      break;
  }
  loss.forward(scores, t);
  Tensor d;
  loss.backward(d);
  const Tensor analytic = d.clone();
  return compare("scores", scores, analytic, o, [&] { return static_cast<double>(loss.forward(scores, t)); });
}

GradCheckResult check_regularizer_gradients(const Regularizer& regularizer, const Shape& shape,
                                            const GradCheckOptions& o) {
  Rng rng(o.seed, Rng::Stream::User);
  Param p{"w", Tensor(shape), Tensor(shape), true};
  fill_away_from_zero(p.value, rng, o.input_min_abs);  // L1's kink is at 0
  regularizer.add_gradient(p);                         // onto a zero grad: the penalty's gradient alone
  const Tensor analytic = p.grad.clone();
  return compare("penalty", p.value, analytic, o, [&] { return static_cast<double>(regularizer.penalty(p)); });
}

}  // namespace lamina
