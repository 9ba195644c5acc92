// `lamina check` of a layer (a merge comes as a layer, merge_as_layer.hpp): gradients, modes,
// a batch of one, determinism, save and reload.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>

#include "check/checks.hpp"
#include "lamina/callback.hpp"
#include "lamina/gradcheck.hpp"
#include "lamina/initializer.hpp"
#include "lamina/merge.hpp"
#include "lamina/optimizer.hpp"
#include "lamina/schedule.hpp"

namespace lamina::detail::checks {

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.size(), b.data());
}

bool finite(const Tensor& t) {
  return std::all_of(t.data(), t.data() + t.size(), [](float v) { return std::isfinite(v); });
}

Tensor input(const Shape& sample, std::int64_t batch, std::uint64_t seed) {
  Tensor x(sample.batched(batch));
  Rng rng(seed, Rng::Stream::User);
  for (auto& v : x.values()) v = rng.normal(0.0f, 1.0f);
  return x;
}


namespace {

// The inputs of a check: random floats, or (--ids) random token ids as floats and as the
// exact ids a context carries.
struct Inputs {
  Tensor x;
  std::vector<std::int32_t> ids;
};

Inputs inputs(const CheckRequest& req, std::int64_t batch, std::uint64_t seed) {
  if (req.ids == 0) return {input(req.input_shape, batch, seed), {}};
  Inputs in{Tensor(req.input_shape.batched(batch)), {}};
  Rng rng(seed, Rng::Stream::User);
  for (std::int64_t i = 0; i < in.x.size(); ++i) {
    in.ids.push_back(static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(req.ids))));
    in.x[i] = static_cast<float>(in.ids.back());
  }
  return in;
}

}  // namespace

void check_layer(const std::function<std::unique_ptr<Layer>()>& create, const CheckRequest& req, Report& report) {
  auto make = [&] {
    auto layer = create();
    Rng init(req.seed, Rng::Stream::Init);
    BuildContext b{&init, "layer"};
    layer->build(req.input_shape, b);
    return layer;
  };
  GradCheckOptions o;
  o.batch = req.batch;
  o.seed = req.seed;
  for (Mode mode : {Mode::Train, Mode::Eval}) {
    auto layer = create();
    o.mode = mode;
    report.grad(mode == Mode::Train ? "gradients (train)" : "gradients (eval)",
                req.ids > 0 ? check_layer_gradients_on_ids(*layer, req.input_shape, req.ids, o)
                            : check_layer_gradients(*layer, req.input_shape, o));
  }

  auto layer = make();
  const Inputs in = inputs(req, req.batch, req.seed);
  const Tensor& x = in.x;
  Rng rng(req.seed, Rng::Stream::Layers);
  // Token ids have no gradient to ask for.
  const bool grad = req.ids == 0;
  Context eval{Mode::Eval, &rng, grad, nullptr, in.ids}, train{Mode::Train, &rng, grad, nullptr, in.ids};
  Tensor y1, y2, y3, dx;
  layer->forward(x, y1, eval);
  layer->forward(x, y2, eval);
  report.add(same(y1, y2) && finite(y1), "eval is deterministic", fmt::format("output {}", y1.shape().str()));

  // Train after eval, then eval again: the layer must switch modes without a rebuild.
  layer->forward(x, y3, train);
  layer->backward(y3, dx, train);
  layer->forward(x, y2, eval);
  report.add(finite(y3) && finite(dx) && (!grad || dx.shape() == x.shape()) && finite(y2), "train/eval switching",
             grad ? "eval -> train forward/backward -> eval, all finite, dx shaped like x"
                  : "eval -> train forward/backward -> eval, all finite");

  // The same seed gives the same training output in a fresh instance.
  {
    auto a = make(), b = make();
    Rng ra(req.seed, Rng::Stream::Layers), rb(req.seed, Rng::Stream::Layers);
    Context ca{Mode::Train, &ra, grad, nullptr, in.ids}, cb{Mode::Train, &rb, grad, nullptr, in.ids};
    Tensor ya, yb;
    a->forward(x, ya, ca);
    b->forward(x, yb, cb);
    report.add(same(ya, yb), "seeded determinism (train)", "two instances, one seed");
  }

  // Batch of one: eval must work; training may refuse it, but only with a Lamina error.
  {
    auto one = make();
    const Inputs in1 = inputs(req, 1, req.seed + 1);
    const Tensor& x1 = in1.x;
    Context eval1{Mode::Eval, &rng, grad, nullptr, in1.ids}, train1{Mode::Train, &rng, grad, nullptr, in1.ids};
    Tensor y, d;
    one->forward(x1, y, eval1);
    std::string train_note = "train works";
    try {
      one->forward(x1, y, train1);
      one->backward(y, d, train1);
    } catch (const InputError& e) {
      train_note = fmt::format("train refused it: {}", e.what());
    }
    report.add(finite(y) && y.rows() == 1, "batch of one", "eval works; " + train_note);
  }

  // Parameters and state copied into a fresh instance (built from another seed) reproduce
  // the eval output: everything that matters is in params() and state().
  {
    auto copy = create();
    Rng other(req.seed + 17, Rng::Stream::Init);
    BuildContext b{&other, "layer"};
    copy->build(req.input_shape, b);
    auto src_p = layer->params(), dst_p = copy->params();
    auto src_s = layer->state(), dst_s = copy->state();
    bool layout = src_p.size() == dst_p.size() && src_s.size() == dst_s.size();
    for (std::size_t i = 0; layout && i < src_p.size(); ++i) {
      layout = src_p[i].name == dst_p[i].name && src_p[i].value.shape() == dst_p[i].value.shape();
      if (layout) dst_p[i].value.copy_from(src_p[i].value);
    }
    for (std::size_t i = 0; layout && i < src_s.size(); ++i) {
      layout = src_s[i].name == dst_s[i].name && src_s[i].value.shape() == dst_s[i].value.shape();
      if (layout) dst_s[i].value.copy_from(src_s[i].value);
    }
    Tensor ya, yb;
    layer->forward(x, ya, eval);
    copy->forward(x, yb, eval);
    report.add(layout && same(ya, yb), "save/reload params and state",
               fmt::format("{} params, {} state tensors", src_p.size(), src_s.size()));
  }
}


}  // namespace lamina::detail::checks
