// `lamina check TYPE`: a conformance check of any registered type but a (deprecated) search
// strategy, built-in or third-party, built from its defaults plus --set keys.
// One line per check, the largest relative error per tensor, and a verdict.
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>

#include "config_impl.hpp"
#include "runtime/commands.hpp"
#include "lamina/error.hpp"
#include "lamina/gradcheck.hpp"
#include "lamina/initializer.hpp"
#include "lamina/merge.hpp"
#include "merge_as_layer.hpp"
#include "lamina/optimizer.hpp"
#include "lamina/schedule.hpp"
#include "lamina/callback.hpp"
#include "runtime/plugin_loader.hpp"
#include "session.hpp"
#include "model_impl.hpp"
#include "check_report.hpp"
#include "search/check_search.hpp"

namespace lamina {
namespace {

using detail::Report;

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

// `create` makes a fresh instance: a layer, or a merge seen as a layer (merge_as_layer.hpp).
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

// f(w) = sum_j 0.5 (j + 1) w_j^2 over a parameter of 4 elements, and its gradient.
double quadratic(const Param& p) {
  double s = 0;
  for (std::int64_t j = 0; j < p.value.size(); ++j) s += 0.5 * static_cast<double>(j + 1) * p.value[j] * p.value[j];
  return s;
}
void quadratic_grad(Param& p) {
  for (std::int64_t j = 0; j < p.value.size(); ++j) p.grad[j] = static_cast<float>(j + 1) * p.value[j];
}

Param make_param(const std::string& name, std::int64_t n, float start) {
  Param p{name, Tensor(Shape{n}), Tensor(Shape{n}), true};
  for (std::int64_t j = 0; j < n; ++j) p.value[j] = start + 0.25f * static_cast<float>(j % 3);
  return p;
}

void check_optimizer(const Registry& registry, const Config& spec, Report& report) {
  // Descent, judged against the optimizer's own step: whatever its learning rate, the distance
  // it travelled must buy at least half the decrease that the same distance straight down the
  // starting gradient buys. A tiny step passes if it points downhill (a sign-based optimizer at
  // lr 1e-4 used to "fail" an absolute threshold that SGD at the same lr passed); a step uphill,
  // no step at all, or a divergence fails.
  {
    auto opt = registry.create<Optimizer>(spec);
    Param p{"layers.0.W", Tensor(Shape{4}), Tensor(Shape{4}), true};
    p.value.fill(1.0f);
    Param* list[] = {&p};
    const Tensor start = p.value.clone();
    quadratic_grad(p);
    const Tensor g0 = p.grad.clone();
    const double f0 = quadratic(p);
    for (int step = 0; step < 300; ++step) {
      quadratic_grad(p);
      opt->step(list);
    }
    double moved = 0, gnorm = 0;
    for (int j = 0; j < 4; ++j) {
      moved += (p.value[j] - start[j]) * (p.value[j] - start[j]);
      gnorm += g0[j] * g0[j];
    }
    moved = std::sqrt(moved);
    gnorm = std::sqrt(gnorm);
    Param straight{"s", start.clone(), Tensor(Shape{4}), true};
    for (int j = 0; j < 4; ++j) straight.value[j] -= static_cast<float>(moved * g0[j] / gnorm);
    const double f1 = quadratic(p), best = f0 - quadratic(straight);
    const bool ok = finite(p.value) && moved > 0 && f1 < f0 && f0 - f1 >= 0.5 * best;
    report.add(ok, "descends on a quadratic",
               fmt::format("f from {:.3f} to {:.3g} in 300 steps, travelling {:.3g} (straight down: {:.3g})", f0, f1,
                           moved, quadratic(straight)));
  }

  // Resume: the state saved after some steps, loaded into a fresh instance, gives the same next
  // steps bit for bit — with the parameters handed over in another order, as other objects
  // (state follows names, not positions or addresses).
  {
    auto a = registry.create<Optimizer>(spec);
    Param wa = make_param("layers.0.W", 4, 1.0f), ba = make_param("layers.0.b", 3, -0.5f);
    Param* la[] = {&wa, &ba};
    for (int step = 0; step < 7; ++step) {
      quadratic_grad(wa);
      quadratic_grad(ba);
      a->step(la);
    }
    std::vector<Buffer> saved;
    a->save_state(saved);
    auto b = registry.create<Optimizer>(spec);
    std::string problem;
    try {
      b->load_state(saved);
    } catch (const Error& e) {
      problem = fmt::format("load_state refused its own save_state: {}", e.what());
    }
    Param wb{wa.name, wa.value.clone(), Tensor(wa.grad.shape()), true};
    Param bb{ba.name, ba.value.clone(), Tensor(ba.grad.shape()), true};
    Param* lb[] = {&bb, &wb};  // the other order
    for (int step = 0; step < 5 && problem.empty(); ++step) {
      for (Param* q : {&wa, &ba, &wb, &bb}) quadratic_grad(*q);
      a->step(la);
      b->step(lb);
    }
    const bool equal = problem.empty() && same(wa.value, wb.value) && same(ba.value, bb.value);
    if (problem.empty() && !equal) problem = "the next 5 steps differ";
    report.add(equal, "save/load state resumes",
               problem.empty() ? fmt::format("{} state tensors; the next 5 steps equal, parameters in another order",
                                             saved.size())
                               : problem);
  }

  // A state tensor the optimizer cannot know (a checkpoint of another optimizer or version)
  // must be refused, not silently ignored.
  {
    auto opt = registry.create<Optimizer>(spec);
    std::vector<Buffer> bogus;
    bogus.push_back({"layers.0.W.no_such_slot_of_any_optimizer", Tensor(Shape{4})});
    std::string refused;
    try {
      opt->load_state(bogus);
    } catch (const InputError& e) {
      refused = e.what();
    }
    report.add(!refused.empty(), "refuses unknown state",
               refused.empty() ? "load_state accepted 'layers.0.W.no_such_slot_of_any_optimizer'"
                               : fmt::format("load_state: {}", refused));
  }
}

// A component with state, through epochs 1-3, saved, loaded into a fresh instance and run on
// through `epochs` (what --resume does); `trace` gathers what both instances did. Returns what
// went wrong, or "".
template <class T, class Run, class Trace>
std::string resumed_halfway(const Registry& registry, const Config& spec, Run& run, std::int64_t epochs,
                            Trace& trace) {
  try {
    auto before = registry.create<T>(spec);
    run(*before, 1, 3, trace);
    std::vector<Buffer> saved;
    before->save_state(saved);
    auto after = registry.create<T>(spec);
    after->load_state(saved);
    run(*after, 4, epochs, trace);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A schedule over 6 epochs of 5 steps with made-up validation metrics (a plateau from epoch 3):
// every factor positive and finite, the same from a fresh instance, and the same after its
// state is saved and loaded into another instance halfway (what --resume does).
void check_schedule(const Registry& registry, const Config& spec, Report& report) {
  const std::int64_t epochs = 6, steps = 5;
  auto metrics = [](std::int64_t epoch) {
    const double loss = epoch < 3 ? 1.0 / static_cast<double>(epoch) : 0.5;
    return EpochEnd{epoch, loss, 0.5, loss, 1.0 - loss / 2, loss, 0.5};
  };
  auto run = [&](Schedule& s, std::int64_t from, std::int64_t to, std::vector<double>& out) {
    for (std::int64_t e = from; e <= to; ++e) {
      for (std::int64_t b = 0; b < steps; ++b) out.push_back(s.factor({(e - 1) * steps + b, e, steps, epochs}));
      s.end_epoch(metrics(e));
    }
  };
  std::vector<double> a, b, c;
  auto first = registry.create<Schedule>(spec);
  run(*first, 1, epochs, a);
  const bool valid = std::all_of(a.begin(), a.end(), [](double f) { return f > 0 && std::isfinite(f); });
  report.add(valid, "factors positive and finite",
             fmt::format("{} steps, from {:.3g} to {:.3g}", a.size(), a.front(), a.back()));
  auto second = registry.create<Schedule>(spec);
  run(*second, 1, epochs, b);
  report.add(a == b, "deterministic", "two instances, the same factors");
  const std::string problem = resumed_halfway<Schedule>(registry, spec, run, epochs, c);
  report.add(problem.empty() && a == c, "save/load state resumes",
             problem.empty() ? (a == c ? "the factors after epoch 3 equal those of an uninterrupted run"
                                       : "the factors after a resume at epoch 3 differ")
                             : problem);
}

// A data source, built from --set keys (its files): each split reads and passes the checks
// training applies (sizes, finite values, labels >= 0, a shape of rank 1 to 3), the splits'
// shapes agree, a second instance reads the same samples, and its default scale is usable.
struct LoadedSource {
  std::unique_ptr<DataSource> source;
  SampleSet split[2];
};

// Reads both splits before any output, so that a missing file is one line of error (exit 2).
LoadedSource load_source(const Registry& registry, const Config& spec) {
  LoadedSource l{registry.create<DataSource>(spec), {}};
  l.split[0] = l.source->load(Split::Train);
  l.split[1] = l.source->load(Split::Test);
  return l;
}

void check_data_source(const Registry& registry, const Config& spec, LoadedSource& loaded, Report& report) {
  DataSource* first = loaded.source.get();
  const std::string& type = spec.type();
  SampleSet* split = loaded.split;
  for (int i = 0; i < 2; ++i) {
    const char* name = i == 0 ? "train" : "test";
    std::string problem;
    try {
      check_samples(split[i], type, true);
    } catch (const InputError& e) {
      problem = e.what();
    }
    const std::int32_t classes =
        split[i].labels.empty() ? 0 : *std::max_element(split[i].labels.begin(), split[i].labels.end()) + 1;
    report.add(problem.empty() && split[i].count > 0, fmt::format("{} samples consistent", name),
               problem.empty() ? fmt::format("{} samples of {}, {} as {}, classes 0..{}", split[i].count,
                                             split[i].sample_shape.str(), split[i].bytes.empty() ? "float" : "bytes",
                                             split[i].bytes.empty() ? "values" : "stored", classes - 1)
                               : problem);
  }
  report.add(split[0].sample_shape == split[1].sample_shape, "train and test shapes agree",
             fmt::format("{} and {}", split[0].sample_shape.str(), split[1].sample_shape.str()));
  auto second = registry.create<DataSource>(spec);
  const SampleSet again = second->load(Split::Train);
  report.add(again.sample_shape == split[0].sample_shape && again.bytes == split[0].bytes &&
                 again.values == split[0].values && again.labels == split[0].labels,
             "deterministic", "a second instance reads the same training samples");
  const float scale = first->default_scale();
  report.add(std::isfinite(scale) && scale > 0, "default scale positive", fmt::format("{:.6g}", scale));
}

// A callback through 6 epochs of 3 steps with made-up metrics (improving, then a plateau) and
// gradients of a fixed pattern: gradients stay finite, two instances act alike, and the
// actions after its state is saved and loaded halfway equal an uninterrupted run's.
void check_callback(const Registry& registry, const Config& spec, Report& report) {
  const std::int64_t epochs = 6, steps = 3;
  struct Trace {
    std::vector<float> grads;
    std::vector<std::string> actions;
  };
  auto run = [&](Callback& cb, std::int64_t from, std::int64_t to, Trace& t) {
    Param w{"layers.0.W", Tensor(Shape{4, 3}), Tensor(Shape{4, 3}), true};
    Param* list[] = {&w};
    for (std::int64_t e = from; e <= to; ++e) {
      for (std::int64_t b = 0; b < steps; ++b) {
        for (std::int64_t i = 0; i < w.grad.size(); ++i) w.grad[i] = static_cast<float>((i % 5) - 2) * 3.0f;
        const TrainStep at{(e - 1) * steps + b, e, steps, epochs};
        cb.before_update(list, at);
        t.grads.insert(t.grads.end(), w.grad.data(), w.grad.data() + w.grad.size());
        cb.end_batch(at, 1.0f);
      }
      const double loss = e < 3 ? 1.0 / static_cast<double>(e) : 0.5;
      const CallbackAction a = cb.end_epoch({e, loss, 1 - loss / 2, loss, 1 - loss / 2, loss, 1 - loss / 2});
      t.actions.push_back(fmt::format("{}{}{}", a.stop ? "stop " : "", a.best ? "best " : "", a.reason));
    }
  };
  Trace a, b, c;
  auto first = registry.create<Callback>(spec);
  run(*first, 1, epochs, a);
  const bool finite_grads = std::all_of(a.grads.begin(), a.grads.end(), [](float g) { return std::isfinite(g); });
  std::size_t acted = 0;
  for (const auto& x : a.actions) acted += !x.empty();
  report.add(finite_grads, "gradients finite after it",
             fmt::format("{} steps; acted at {} of {} epoch ends", epochs * steps, acted, epochs));
  auto second = registry.create<Callback>(spec);
  run(*second, 1, epochs, b);
  report.add(a.grads == b.grads && a.actions == b.actions, "deterministic", "two instances, the same effects");
  const std::string problem = resumed_halfway<Callback>(registry, spec, run, epochs, c);
  const bool same_after = problem.empty() && a.grads == c.grads && a.actions == c.actions;
  report.add(same_after, "save/load state resumes",
             !problem.empty() ? problem
             : same_after     ? "its effects after epoch 3 equal those of an uninterrupted run"
                              : "its effects after a resume at epoch 3 differ");
}

}  // namespace

bool run_check(const CheckRequest& req, std::ostream& out) {
  detail::Session session(req.plugins);
  session.load();
  Registry& registry = session.registry;
  // KIND:NAME picks one of several types of one name (`pruner:none` beside the regularizer).
  std::string type = req.type, kind;
  if (const auto colon = type.find(':'); colon != std::string::npos) {
    kind = type.substr(0, colon);
    type = type.substr(colon + 1);
  }
  std::vector<const TypeInfo*> found;
  for (const auto* t : registry.find_all(type)) {
    if (kind.empty() || kind_name(t->kind) == kind) found.push_back(t);
  }
  if (found.empty()) {
    throw InputError(fmt::format("no type named '{}'; `lamina plugins` lists them", req.type));
  }
  if (found.size() > 1) {
    std::vector<std::string> names;
    for (const auto* t : found) names.push_back(fmt::format("{}:{}", kind_name(t->kind), type));
    throw InputError(fmt::format("'{}' names {} types; name one: {}", type, found.size(), fmt::join(names, ", ")));
  }
  const TypeInfo& info = *found.front();
  if (req.batch < 1 || req.input_shape.rank() == 0) throw InputError("--batch and --input-shape must be positive");

  // The spec: {type: TYPE} with each --set applied, located by its flag in messages.
  std::vector<std::string> sets;
  for (const auto& s : req.overrides) sets.push_back(s);
  ModelFile file = ModelFile::parse_section("check: {type: " + type + "}\n", "<check>", "check").with(sets);
  const Config spec = detail::unbound(file.impl().root, file.impl().source, "", &registry);

  if (info.kind == Kind::Search) {
    throw InputError(fmt::format("'{}' is a search strategy, an interface the search no longer uses; `lamina "
                                 "check` checks every other kind, samplers and pruners included",
                                 req.type));
  }
  registry.bind(info.kind, spec);  // bad --set keys fail here, before any output
  std::optional<LoadedSource> loaded;
  if (info.kind == Kind::DataSource) loaded.emplace(load_source(registry, spec));
  out << fmt::format("check {} {} (plugin {} {}, {})", kind_name(info.kind), info.name, info.provider.plugin,
                     info.provider.version, info.provider.file)
      << "\n";
  if (info.kind == Kind::Layer || info.kind == Kind::Merge || info.kind == Kind::Loss || info.kind == Kind::Regularizer) {
    out << fmt::format("gradients: central differences in float, step {}, pass at relative error <= {} (floor {})",
                       GradCheckOptions{}.step, GradCheckOptions{}.tolerance, GradCheckOptions{}.floor)
        << "\n";
  }
  Report report(out);
  GradCheckOptions o;
  o.batch = req.batch;
  o.seed = req.seed;
  switch (info.kind) {
    case Kind::Layer:
      check_layer([&] { return registry.create<Layer>(spec); }, req, report);
      break;
    case Kind::Merge: {
      // Two inputs of --input-shape, laid side by side as one layer input.
      const std::vector<Shape> inputs(2, req.input_shape);
      report.note(fmt::format("a merge of two inputs of {} per sample", req.input_shape.str()));
      CheckRequest stacked = req;
      stacked.input_shape = detail::MergeAsLayer::stacked(inputs);
      check_layer([&] { return std::make_unique<detail::MergeAsLayer>(registry.create<Merge>(spec), inputs); },
                  stacked, report);
      break;
    }
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
    case Kind::Optimizer:
      check_optimizer(registry, spec, report);
      break;
    case Kind::Initializer: {
      auto init = registry.create<Initializer>(spec);
      Tensor a(Shape{64, 32}), b(Shape{64, 32});
      Rng ra(req.seed, Rng::Stream::Init), rb(req.seed, Rng::Stream::Init);
      init->fill(a, 64, 32, ra);
      init->fill(b, 64, 32, rb);
      report.add(finite(a) && same(a, b), "finite and seeded", "two fills, one seed");
      break;
    }
    case Kind::Schedule:
      check_schedule(registry, spec, report);
      break;
    case Kind::Callback:
      check_callback(registry, spec, report);
      break;
    case Kind::DataSource:
      check_data_source(registry, spec, *loaded, report);
      break;
    case Kind::Sampler:
      detail::check_sampler(registry, spec, report);
      break;
    case Kind::Pruner:
      detail::check_pruner(registry, spec, report);
      break;
    case Kind::Search:
      break;
  }
  out << (report.passed() ? fmt::format("all {} checks passed", report.total())
                          : fmt::format("{} of {} checks failed", report.failed(), report.total()))
      << std::endl;
  return report.passed();
}

}  // namespace lamina
