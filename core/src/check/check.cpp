// `lamina check TYPE`: a conformance check of any registered type but a (deprecated) search
// strategy, built-in or third-party, built from its defaults plus --set keys.
// One line per check, the largest relative error per tensor, and a verdict.
#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <ostream>

#include "check/checks.hpp"
#include "check_report.hpp"
#include "config_impl.hpp"
#include "lamina/gradcheck.hpp"
#include "lamina/initializer.hpp"
#include "lamina/loss.hpp"
#include "lamina/merge.hpp"
#include "lamina/regularizer.hpp"
#include "merge_as_layer.hpp"
#include "model_impl.hpp"
#include "runtime/commands.hpp"
#include "runtime/plugin_loader.hpp"
#include "search/check_search.hpp"
#include "session.hpp"

namespace lamina {

using detail::Report;
namespace checks = detail::checks;

bool run_check(const CheckRequest& req, std::ostream& out) {
  if (req.batch < 1 || req.batch > 4096) throw RequestError("--batch must be between 1 and 4096");
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
  if (req.input_shape.rank() == 0) throw InputError("--input-shape must be positive");

  // The spec: {type: TYPE} with each --set applied, located by its flag in messages.
  std::vector<std::string> sets;
  for (const auto& s : req.overrides) sets.push_back(s);
  ModelFile file = ModelFile::parse_section("check: {type: " + type + "}\n", "<check>", "check").with(sets);
  const Config spec = detail::unbound(file.impl().root, file.impl().source, "", &registry);

  registry.bind(info.kind, spec);  // bad --set keys fail here, before any output
  std::optional<checks::LoadedSource> loaded;
  if (info.kind == Kind::DataSource) loaded.emplace(checks::load_source(registry, spec));
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
      checks::check_layer([&] { return registry.create<Layer>(spec); }, req, report);
      break;
    case Kind::Merge: {
      // Two inputs of --input-shape, laid side by side as one layer input.
      const std::vector<Shape> inputs(2, req.input_shape);
      report.note(fmt::format("a merge of two inputs of {} per sample", req.input_shape.str()));
      CheckRequest stacked = req;
      stacked.input_shape = detail::MergeAsLayer::stacked(inputs);
      checks::check_layer([&] { return std::make_unique<detail::MergeAsLayer>(registry.create<Merge>(spec), inputs); },
                  stacked, report);
      break;
    }
    case Kind::Loss: {
      // For every kind of target the loss says it takes: its gradient on two sets of inputs.
      auto loss = registry.create<Loss>(spec);
      const std::int64_t outputs = req.input_shape.numel();
      int kinds = 0;
      for (TargetKind k : kTargetKinds) {
        if (!loss->accepts(k)) continue;
        ++kinds;
        const std::string what = fmt::format("gradients, {} targets", target_kind_name(k));
        GradCheckOptions other = o;
        other.seed += 1;
        report.grad(what, {check_loss_gradients(*loss, k, outputs, o)});
        report.grad(what + " (other inputs)", {check_loss_gradients(*loss, k, outputs, other)});
      }
      report.add(kinds > 0, "takes some kind of target", kinds > 0 ? "" : "accepts() is false for every kind");
      break;
    }
    case Kind::Regularizer: {
      auto reg = registry.create<Regularizer>(spec);
      report.grad("gradients", {check_regularizer_gradients(*reg, req.input_shape, o)});
      Param p{"w", checks::input(req.input_shape, 1, req.seed), Tensor(), true};
      report.add(std::isfinite(reg->penalty(p)) && reg->penalty(p) == reg->penalty(p), "penalty is deterministic", "");
      break;
    }
    case Kind::Optimizer:
      checks::check_optimizer(registry, spec, report);
      break;
    case Kind::Initializer: {
      auto init = registry.create<Initializer>(spec);
      Tensor a(Shape{64, 32}), b(Shape{64, 32});
      Rng ra(req.seed, Rng::Stream::Init), rb(req.seed, Rng::Stream::Init);
      init->fill(a, 64, 32, ra);
      init->fill(b, 64, 32, rb);
      report.add(checks::finite(a) && checks::same(a, b), "finite and seeded", "two fills, one seed");
      break;
    }
    case Kind::Schedule:
      checks::check_schedule(registry, spec, report);
      break;
    case Kind::Callback:
      checks::check_callback(registry, spec, report);
      break;
    case Kind::DataSource:
      checks::check_data_source(registry, spec, *loaded, report);
      break;
    case Kind::Sampler:
      detail::check_sampler(registry, spec, report);
      break;
    case Kind::Pruner:
      detail::check_pruner(registry, spec, report);
      break;
    case Kind::Metric:
      checks::check_metric(registry, spec, report);
      break;
    case Kind::Augmentation:
      checks::check_augmentation(registry, spec, req, report);
      break;
  }
  out << (report.passed() ? fmt::format("all {} checks passed", report.total())
                          : fmt::format("{} of {} checks failed", report.failed(), report.total()))
      << std::endl;
  return report.passed();
}


}  // namespace lamina
