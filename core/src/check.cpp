// `lamina check TYPE`: a conformance check of any registered layer, loss, regularizer,
// optimizer or initializer, built-in or third-party, built from its defaults plus --set keys.
// One line per check, the largest relative error per tensor, and a verdict.
#include <fmt/format.h>

#include <cmath>
#include <ostream>

#include "config_impl.hpp"
#include "runtime/commands.hpp"
#include "lamina/error.hpp"
#include "lamina/gradcheck.hpp"
#include "lamina/initializer.hpp"
#include "lamina/optimizer.hpp"
#include "runtime/plugin_loader.hpp"
#include "model_impl.hpp"

namespace lamina {
namespace {

class Report {
 public:
  explicit Report(std::ostream& out) : out_(out) {}
  void add(bool ok, const std::string& check, const std::string& detail) {
    ++total_;
    failed_ += !ok;
    out_ << fmt::format("{} {:<28} {}", ok ? "PASS" : "FAIL", check, detail) << "\n";
  }
  void grad(const std::string& check, const std::vector<GradCheckResult>& results) {
    bool ok = true;
    std::string detail;
    for (const auto& r : results) {
      ok = ok && r.ok;
      detail += fmt::format("{}{} {:.2e}", detail.empty() ? "max relative error: " : ", ", r.tensor, r.max_error);
    }
    add(ok, check, detail);
  }
  bool passed() const { return failed_ == 0; }
  int total() const { return total_; }
  int failed() const { return failed_; }

 private:
  std::ostream& out_;
  int total_ = 0, failed_ = 0;
};

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.size(), b.data());
}

bool finite(const Tensor& t) {
  return std::all_of(t.data(), t.data() + t.size(), [](float v) { return std::isfinite(v); });
}

Tensor input(const Shape& sample, std::int64_t batch, std::uint64_t seed) {
  std::vector<std::int64_t> dims{batch};
  for (int i = 0; i < sample.rank(); ++i) dims.push_back(sample[i]);
  Tensor x(Shape::from(dims));
  Rng rng(seed, Rng::Stream::User);
  for (auto& v : x.values()) v = rng.normal(0.0f, 1.0f);
  return x;
}

void check_layer(const Registry& registry, const Config& spec, const CheckRequest& req, Report& report) {
  auto make = [&] {
    auto layer = registry.create<Layer>(spec);
    Rng init(req.seed, Rng::Stream::Init);
    BuildContext b{&init, "layer"};
    layer->build(req.input_shape, b);
    return layer;
  };
  GradCheckOptions o;
  o.batch = req.batch;
  o.seed = req.seed;
  for (Mode mode : {Mode::Train, Mode::Eval}) {
    auto layer = registry.create<Layer>(spec);
    o.mode = mode;
    report.grad(mode == Mode::Train ? "gradients (train)" : "gradients (eval)",
                check_layer_gradients(*layer, req.input_shape, o));
  }

  auto layer = make();
  const Tensor x = input(req.input_shape, req.batch, req.seed);
  Rng rng(req.seed, Rng::Stream::Layers);
  Context eval{Mode::Eval, &rng, true}, train{Mode::Train, &rng, true};
  Tensor y1, y2, y3, dx;
  layer->forward(x, y1, eval);
  layer->forward(x, y2, eval);
  report.add(same(y1, y2) && finite(y1), "eval is deterministic", fmt::format("output {}", y1.shape().str()));

  // Train after eval, then eval again: the layer must switch modes without a rebuild.
  layer->forward(x, y3, train);
  layer->backward(y3, dx, train);
  layer->forward(x, y2, eval);
  report.add(finite(y3) && finite(dx) && dx.shape() == x.shape() && finite(y2), "train/eval switching",
             "eval -> train forward/backward -> eval, all finite, dx shaped like x");

  // The same seed gives the same training output in a fresh instance.
  {
    auto a = make(), b = make();
    Rng ra(req.seed, Rng::Stream::Layers), rb(req.seed, Rng::Stream::Layers);
    Context ca{Mode::Train, &ra, true}, cb{Mode::Train, &rb, true};
    Tensor ya, yb;
    a->forward(x, ya, ca);
    b->forward(x, yb, cb);
    report.add(same(ya, yb), "seeded determinism (train)", "two instances, one seed");
  }

  // Batch of one: eval must work; training may refuse it, but only with a Lamina error.
  {
    auto one = make();
    const Tensor x1 = input(req.input_shape, 1, req.seed + 1);
    Tensor y, d;
    one->forward(x1, y, eval);
    std::string train_note = "train works";
    try {
      one->forward(x1, y, train);
      one->backward(y, d, train);
    } catch (const InputError& e) {
      train_note = fmt::format("train refused it: {}", e.what());
    }
    report.add(finite(y) && y.rows() == 1, "batch of one", "eval works; " + train_note);
  }

  // Parameters and state copied into a fresh instance (built from another seed) reproduce
  // the eval output: everything that matters is in params() and state().
  {
    auto copy = registry.create<Layer>(spec);
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

}  // namespace

bool run_check(const CheckRequest& req, std::ostream& out) {
  Registry registry;
  PluginLoader loader(registry, req.plugins);
  loader.load_search_path();
  const auto found = registry.find_all(req.type);
  if (found.empty()) {
    throw InputError(fmt::format("no type named '{}'; `lamina plugins` lists them", req.type));
  }
  const TypeInfo& info = *found.front();
  if (req.batch < 1 || req.input_shape.rank() == 0) throw InputError("--batch and --input-shape must be positive");

  // The spec: {type: TYPE} with each --set applied, located by its flag in messages.
  std::vector<std::string> sets;
  for (const auto& s : req.overrides) sets.push_back(s);
  ModelFile file = ModelFile::parse_section("check: {type: " + req.type + "}\n", "<check>", "check").with(sets);
  const Config spec = detail::unbound(file.impl().root, file.impl().source, "", &registry);

  if (info.kind == Kind::Search) {
    throw InputError(
        fmt::format("'{}' is a search strategy; `lamina check` checks layers, losses, "
                    "regularizers, optimizers and initializers",
                    req.type));
  }
  registry.bind(info.kind, spec);  // bad --set keys fail here, before any output
  out << fmt::format("check {} {} (plugin {} {}, {})", kind_name(info.kind), info.name, info.provider.plugin,
                     info.provider.version, info.provider.file)
      << "\n";
  out << fmt::format("gradients: central differences in float, step {}, pass at relative error <= {} (floor {})",
                     GradCheckOptions{}.step, GradCheckOptions{}.tolerance, GradCheckOptions{}.floor)
      << "\n";
  Report report(out);
  GradCheckOptions o;
  o.batch = req.batch;
  o.seed = req.seed;
  switch (info.kind) {
    case Kind::Layer:
      check_layer(registry, spec, req, report);
      break;
    case Kind::Loss: {
      auto loss = registry.create<Loss>(spec);
      const std::int64_t classes = req.input_shape.numel();
      report.grad("gradients", {check_loss_gradients(*loss, classes, o)});
      o.seed += 1;
      report.grad("gradients (other inputs)", {check_loss_gradients(*loss, classes, o)});
      break;
    }
    case Kind::Regularizer: {
      auto reg = registry.create<Regularizer>(spec);
      report.grad("gradients", {check_regularizer_gradients(*reg, req.input_shape, o)});
      Param p{"w", input(req.input_shape, 1, req.seed), Tensor(), true};
      report.add(std::isfinite(reg->penalty(p)) && reg->penalty(p) == reg->penalty(p), "penalty is deterministic", "");
      break;
    }
    case Kind::Optimizer: {
      auto opt = registry.create<Optimizer>(spec);
      Param p{"layers.0.W", Tensor(Shape{4}), Tensor(Shape{4}), true};
      p.value.fill(1.0f);
      Param* list[] = {&p};
      auto f = [&] {
        double s = 0;
        for (int j = 0; j < 4; ++j) s += 0.5 * (j + 1) * p.value[j] * p.value[j];
        return s;
      };
      const double f0 = f();
      for (int step = 0; step < 300; ++step) {
        for (int j = 0; j < 4; ++j) p.grad[j] = static_cast<float>(j + 1) * p.value[j];
        opt->step(list);
      }
      report.add(f() < 0.9 * f0 && finite(p.value), "descends on a quadratic",
                 fmt::format("f from {:.3f} to {:.3g} in 300 steps", f0, f()));
      break;
    }
    case Kind::Initializer: {
      auto init = registry.create<Initializer>(spec);
      Tensor a(Shape{64, 32}), b(Shape{64, 32});
      Rng ra(req.seed, Rng::Stream::Init), rb(req.seed, Rng::Stream::Init);
      init->fill(a, 64, 32, ra);
      init->fill(b, 64, 32, rb);
      report.add(finite(a) && same(a, b), "finite and seeded", "two fills, one seed");
      break;
    }
    case Kind::Search:
      break;
  }
  out << (report.passed() ? fmt::format("all {} checks passed", report.total())
                          : fmt::format("{} of {} checks failed", report.failed(), report.total()))
      << std::endl;
  return report.passed();
}

}  // namespace lamina
