// The second step of reading a model: spec -> components and network (model_spec.hpp has the
// first). Every key was checked in the first; what can fail here is a plugin's own constructor.
#include "runtime/model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>

#include "config_impl.hpp"
#include "lamina/error.hpp"
#include "lamina/layer.hpp"
#include "lamina/merge.hpp"
#include "name_pattern.hpp"
#include "runtime/model_spec.hpp"
#include "runtime/plugin_guard.hpp"

namespace lamina {

// MemAvailable of /proc/meminfo in bytes (0 when unknown).
static double available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemAvailable:") return kb * 1024;
  }
  return 0;
}

detail::PluginSite plugin_site(const Model& model, Kind kind, const std::string& type, std::string place) {
  for (const auto& u : model.types) {
    if (u.kind == kind && (type.empty() || u.type == type)) return {std::move(place), u.type, u.plugin, u.file};
  }
  return {std::move(place), type, "", ""};
}

std::vector<std::string> metric_names(const Model& model) {
  std::vector<std::string> names;
  for (const auto& m : model.metrics) names.push_back(m.name);
  return names;
}

namespace {

template <class T>
std::unique_ptr<T> make(const Registry& registry, const ComponentSpec& c) {
  return std::unique_ptr<T>(static_cast<T*>(registry.create_bound(T::kind, c.bound).release()));
}

// The Key::metric values a component holds, for build_network to check against the metrics.
void collect_metric_refs(const ComponentSpec& c, std::vector<MetricRef>& refs) {
  for (const Key& k : c.bound.schema()) {
    if (k.type() != KeyType::Metric) continue;
    refs.push_back({c.bound.get<std::string>(k.name()), c.bound.path() + "." + k.name(),
                    c.bound.has(k.name()) ? c.bound.where(k.name()) : c.bound.where()});
  }
}

}  // namespace

Model build_model(const ModelSpec& spec, const Registry& registry) {
  Model m;
  m.name = spec.name;
  m.types = spec.types;
  m.data = spec.data_spec;
  Registry::Erased source = registry.create_bound(Kind::DataSource, spec.source.bound);
  m.data.reader = std::shared_ptr<DataSource>(static_cast<DataSource*>(source.release()));

  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec& layer = spec.layers[i];
    const std::string type = layer.component.bound.type();
    try {
      if (layer.merge) {
        m.network.add(make<Merge>(registry, layer.component), layer.path, type, layer.inputs);
      } else {
        m.network.add(make<Layer>(registry, layer.component), layer.path, type, layer.inputs);
      }
    } catch (const InputError& e) {
      if (layer.block_note.empty()) throw;
      throw InputError(e.what() + layer.block_note);  // a fault inside a block: which use led there
    }
    const detail::PluginSite site = plugin_site(m, layer.merge ? Kind::Merge : Kind::Layer, type, layer.path);
    m.network.set_provider(site.plugin, site.file);
    m.network.locate(i, layer.where + layer.block_note);
    std::unique_ptr<Regularizer> reg;
    if (layer.regularizer) {
      reg = make<Regularizer>(registry, *layer.regularizer);
      m.layer_regularizer_types.resize(i + 1);
      m.layer_regularizer_types[i] = layer.regularizer->bound.type();
    }
    m.layer_regularizers.push_back(std::move(reg));
    m.layer_names.push_back(layer.name);
    m.layer_blocks.push_back(layer.block);
  }
  m.loss = make<Loss>(registry, spec.loss);
  m.loss_type = spec.loss.bound.type();
  m.loss_where = spec.loss.bound.where();
  m.data_where = spec.source.bound.where();
  if (spec.regularizer) {
    m.regularizer = make<Regularizer>(registry, *spec.regularizer);
    m.regularizer_type = spec.regularizer->bound.type();
  }
  m.optimizer = make<Optimizer>(registry, spec.optimizer);
  if (spec.schedule) m.schedule = make<Schedule>(registry, *spec.schedule);
  m.train = spec.train;
  m.init_from = spec.init_from;
  m.block_uses = spec.block_uses;
  for (const auto& c : spec.augment) {
    m.augment.push_back(make<Augmentation>(registry, c));
    m.augment_types.push_back(c.bound.type());
    m.augment_places.push_back(c.bound.path());
  }
  for (const auto& c : spec.callbacks) {
    m.callbacks.push_back(make<Callback>(registry, c));
    m.callback_types.push_back(c.bound.type());
  }
  m.metrics_by_default = !spec.metrics_written;
  for (std::size_t i = 0; i < spec.metrics.size(); ++i) {
    const ComponentSpec& c = spec.metrics[i];
    const TypeInfo* info = registry.find(Kind::Metric, c.bound.type());
    m.metrics.push_back({make<Metric>(registry, c), spec.metric_names[i], c.bound.type(), c.bound.path(),
                         spec.metrics_written ? c.bound.where() : spec.loss.bound.where(), info->provider.plugin,
                         info->provider.file});
  }
  if (spec.schedule) collect_metric_refs(*spec.schedule, m.metric_refs);
  for (const auto& c : spec.callbacks) collect_metric_refs(c, m.metric_refs);
  for (const auto& l : spec.layers) collect_metric_refs(l.component, m.metric_refs);
  collect_metric_refs(spec.loss, m.metric_refs);
  collect_metric_refs(spec.optimizer, m.metric_refs);
  m.resolved_yaml = resolved_yaml(spec);
  return m;
}

Model build_model(const ModelFile& file, const Registry& registry, bool run_copy) {
  return build_model(read_model_spec(file, registry, run_copy), registry);
}

namespace {

void check_output_shape(const DataSplits& data, const Shape& out, const std::string& layer);

// "a", "a and b", "a, b and c".
std::string joined_and(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i == 0 ? "" : i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

// Whether the loss takes the data's targets, and the last layer's output fits them.
void check_targets(const Model& model, const DataSplits& data, const Shape& out) {
  const std::size_t last = model.network.size() - 1;
  const TargetKind kind = data.target_kind;
  const detail::PluginSite site = plugin_site(model, Kind::Loss, "", "loss");
  const bool accepted = detail::plugin_call(site, "accepts", [&] { return model.loss->accepts(kind); });
  if (!accepted) {
    std::vector<std::string> takes;
    for (TargetKind k : kTargetKinds) {
      if (detail::plugin_call(site, "accepts", [&] { return model.loss->accepts(k); })) {
        takes.push_back(target_kind_name(k));
      }
    }
    const SampleSet& given = data.test.empty() ? data.train.samples() : data.test.samples();
    throw InputError(fmt::format("{}: loss '{}' does not take the {} targets of {} (data: {}); it takes {} targets. "
                                 "Choose a loss for {} targets (`lamina plugins` lists the losses)",
                                 model.loss_where, model.loss_type, target_kind_name(kind),
                                 given.labels_origin.empty() ? given.origin : given.labels_origin, model.data_where,
                                 takes.empty() ? std::string("no") : joined_and(takes),
                                 target_kind_name(kind)));
  }
  const std::string layer = fmt::format("{} ({})", model.network.path(last), model.network.type(last));
  check_output_shape(data, out, layer);
  // One sample of zero scores and valid targets through the loss: what it can only check
  // against the shapes (class_weights, one per class) is refused now, not at the first batch.
  Tensor scores(out.batched(1));
  const std::vector<std::int32_t> classes(static_cast<std::size_t>(data.target_width), 0);
  const std::vector<float> values(static_cast<std::size_t>(data.target_width), 0.0f);
  const bool has_classes = kind == TargetKind::Class || kind == TargetKind::ClassPerPosition;
  const Targets probe{kind, 1, data.target_width, has_classes ? std::span<const std::int32_t>(classes) : std::span<const std::int32_t>(),
                      has_classes ? std::span<const float>() : std::span<const float>(values)};
  detail::plugin_call(site, "forward", [&] { return model.loss->forward(scores, probe); });
}

// data.augment: the kind of targets after each augmentation (most keep it; mixup makes class
// probabilities of classes), and whether the loss takes the last kind, and each metric too when
// it measures the training batches as they run (train.train_metrics: running).
void check_augment(Model& model, const DataSplits& data, const Shape& out) {
  model.augment_kinds = {data.target_kind};
  model.augment_classes = out[out.rank() - 1];
  for (std::size_t i = 0; i < model.augment.size(); ++i) {
    const detail::PluginSite site = plugin_site(model, Kind::Augmentation, model.augment_types[i], model.augment_places[i]);
    const TargetKind in = model.augment_kinds.back();
    const TargetKind k = detail::plugin_call(site, "output_kind",
                                             [&] { return model.augment[i]->output_kind(data.sample_shape, in); });
    if (k != in && !(in == TargetKind::Class && k == TargetKind::ClassProbabilities)) {
      throw InputError(fmt::format("{} ({}): output_kind makes {} targets of {} targets; an augmentation keeps the "
                                   "kind, or makes class probabilities of classes",
                                   site.place, detail::plugin_named(site), target_kind_name(k), target_kind_name(in)));
    }
    model.augment_kinds.push_back(k);
  }
  const TargetKind last = model.augment_kinds.back();
  if (last == data.target_kind) return;
  const detail::PluginSite loss_site = plugin_site(model, Kind::Loss, "", "loss");
  if (!detail::plugin_call(loss_site, "accepts", [&] { return model.loss->accepts(last); })) {
    throw InputError(fmt::format("{}: loss '{}' does not take the {} targets that data.augment makes of the data's {} "
                                 "targets; choose a loss that takes {} targets (`lamina plugins` lists the losses)",
                                 model.loss_where, model.loss_type, target_kind_name(last),
                                 target_kind_name(data.target_kind), target_kind_name(last)));
  }
  if (model.train.train_metrics != "running") return;
  for (const ModelMetric& mm : model.metrics) {
    const detail::PluginSite site{mm.place, mm.type, mm.plugin, mm.file};
    if (!detail::plugin_call(site, "accepts", [&] { return mm.metric->accepts(last); })) {
      throw InputError(fmt::format("{}: metric '{}' does not measure the {} targets that data.augment makes of the "
                                   "training batches; set train.train_metrics: eval (the training set is then "
                                   "measured unaugmented after each epoch) or leave the metric out",
                                   mm.where, mm.type, target_kind_name(last)));
    }
  }
}

void check_output_shape(const DataSplits& data, const Shape& out, const std::string& layer) {
  const TargetKind kind = data.target_kind;
  switch (kind) {
    case TargetKind::Class:
    case TargetKind::ClassPerPosition: {
      const bool per_position = kind == TargetKind::ClassPerPosition;
      if (out.rank() != (per_position ? 2 : 1)) {
        throw InputError(per_position
                             ? fmt::format("{}: the last layer gives per-sample scores of shape {}; a class per "
                                           "position needs ({}, classes): a score per class at each of the {} positions",
                                           layer, out.str(), data.target_width, data.target_width)
                             : fmt::format("{}: the last layer gives per-sample scores of shape {}; the loss needs one "
                                           "score per class, e.g. end with an affine layer whose units is the number "
                                           "of classes",
                                           layer, out.str()));
      }
      if (per_position && out[0] != data.target_width) {
        throw InputError(fmt::format("{}: the last layer gives scores for {} positions but the targets have {}", layer,
                                     out[0], data.target_width));
      }
      const std::int64_t classes = out[out.rank() - 1];
      if (classes <= data.max_label) {
        throw InputError(fmt::format("{}: the last layer gives {} scores per {} but the labels go up to {} "
                                     "({} classes); set its units to {}",
                                     layer, classes, per_position ? "position" : "sample", data.max_label,
                                     data.max_label + 1, data.max_label + 1));
      }
      break;
    }
    case TargetKind::MultiLabel:
    case TargetKind::Regression:
    case TargetKind::ClassProbabilities: {
      const bool regression = kind == TargetKind::Regression;
      if (out.rank() != 1 || out[0] != data.target_width) {
        throw InputError(fmt::format("{}: the last layer gives per-sample outputs of shape {} but the data has {} {} "
                                     "per sample; end with an affine layer of units {}",
                                     layer, out.str(), data.target_width,
                                     regression                                  ? "regression targets"
                                     : kind == TargetKind::ClassProbabilities ? "class probabilities"
                                                                              : "labels",
                                     data.target_width));
      }
      break;
    }
  }
}

// The default metrics for the data's targets, or a check that the listed ones take them; then
// that every watched measure is one the model reports.
void choose_metrics(Model& model, const DataSplits& data, const Shape& out) {
  const TargetKind kind = data.target_kind;
  const std::int64_t width = out[out.rank() - 1];
  std::vector<ModelMetric> kept;
  for (ModelMetric& mm : model.metrics) {
    const detail::PluginSite site{mm.place, mm.type, mm.plugin, mm.file};
    const Metric& metric = *mm.metric;
    if (model.metrics_by_default) {
      if (!detail::plugin_call(site, "is_default", [&] { return metric.is_default(kind); })) continue;
    } else if (!detail::plugin_call(site, "accepts", [&] { return metric.accepts(kind); })) {
      std::vector<std::string> takes;
      for (TargetKind k : kTargetKinds) {
        if (detail::plugin_call(site, "accepts", [&] { return metric.accepts(k); })) takes.push_back(target_kind_name(k));
      }
      throw InputError(fmt::format("{}: metric '{}' does not measure the {} targets of this model's data ({}); it "
                                   "takes {} targets",
                                   mm.where, mm.type, target_kind_name(kind), model.data_where,
                                   takes.empty() ? std::string("no") : fmt::format("{}", fmt::join(takes, " and "))));
    }
    mm.higher_is_better = detail::plugin_call(site, "higher_is_better", [&] { return metric.higher_is_better(); });
    mm.sums = detail::plugin_call(site, "sums", [&] { return metric.sums(width); });
    if (mm.sums > (std::size_t{1} << 20)) {
      throw Error(fmt::format("{}: metric '{}' asks for {} sums for {} outputs; at most {}", mm.place, mm.type, mm.sums,
                              width, std::size_t{1} << 20));
    }
    kept.push_back(std::move(mm));
  }
  model.metrics = std::move(kept);
}

// train.params: each rule sets the flags it names on every tensor it matches, in file order, so
// the last rule that matches a tensor decides (a broad freeze, then exceptions).
void apply_param_rules(Model& model) {
  const std::vector<Param*> params = model.network.params();
  for (std::size_t k = 0; k < model.train.params.size(); ++k) {
    const ParamRule& r = model.train.params[k];
    bool matched = false;
    for (Param* p : params) {
      const std::string alias = detail::named_alias(p->name, model.layer_names);
      if (!detail::match_name(r.match, p->name) && (alias.empty() || !detail::match_name(r.match, alias))) continue;
      matched = true;
      if (r.trainable) p->trainable = *r.trainable;
      if (r.lr_mult) p->lr_mult = *r.lr_mult;
      if (r.decay_mult) p->decay_mult = *r.decay_mult;
    }
    if (matched) continue;
    std::vector<std::string> names;
    for (const Param* p : params) {
      if (names.size() == 40) {
        names.push_back(fmt::format("and {} more", params.size() - 40));
        break;
      }
      const std::string alias = detail::named_alias(p->name, model.layer_names);
      names.push_back(alias.empty() ? p->name : fmt::format("{} ({})", p->name, alias));
    }
    throw InputError(fmt::format("{}: train.params.{}: '{}' matches no tensor of the model; its tensors are: {}", r.where,
                                 k, r.match, names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
  }
}

}  // namespace

void check_watched(const Model& model, const DataSplits& data) {
  std::vector<std::string> reported{"train_loss"};
  if (!data.validation.empty()) reported.push_back("val_loss");
  for (const auto& mm : model.metrics) {
    reported.push_back("train_" + mm.name);
    if (!data.validation.empty()) reported.push_back("val_" + mm.name);
  }
  for (const MetricRef& r : model.metric_refs) {
    if (std::find(reported.begin(), reported.end(), r.value) != reported.end()) continue;
    const std::string name = r.value.substr(r.value.find('_') + 1);
    const bool known = name == "loss" || std::any_of(model.metrics.begin(), model.metrics.end(),
                                                     [&](const ModelMetric& mm) { return mm.name == name; });
    if (known) {  // a val_ measure without a validation split
      throw InputError(fmt::format("{}: {} watches {}, but the model has no validation split; set "
                                   "data.validation_split, or watch train_{}",
                                   r.where, r.place, r.value, name));
    }
    throw InputError(fmt::format("{}: {} watches '{}', which this model does not report; it reports: {} (list a "
                                 "metric under `metrics:` to report it)",
                                 r.where, r.place, r.value, fmt::join(reported, ", ")));
  }
}

void build_network(Model& model, const DataSplits& data, bool targets_known) {
  Rng init(model.train.seed, Rng::Stream::Init);
  const Shape out = model.network.build(data.sample_shape, init);
  apply_param_rules(model);
  // Every layer's output and its gradient, for a batch, in float32: the floor of what training
  // needs. A model that cannot fit in the machine's free memory is refused with the figure,
  // before a first batch takes the machine down.
  double values = 0;
  for (std::size_t i = 0; i < model.network.size(); ++i) {
    values += static_cast<double>(model.network.output_shape(i).numel());
  }
  const double bytes = values * 2 * 4 * static_cast<double>(std::max(model.train.batch_size, model.train.eval_batch_size));
  if (const double free = available_memory(); free > 0 && bytes > free) {
    throw InputError(fmt::format("the model's activations take about {:.1f} GB for a batch of {} ({} layers) but the "
                                 "machine has {:.1f} GB free; use fewer or narrower layers, or a smaller "
                                 "train.batch_size and train.eval_batch_size",
                                 bytes / 1e9, std::max(model.train.batch_size, model.train.eval_batch_size),
                                 model.network.size(), free / 1e9));
  }
  model.target_kind = data.target_kind;
  model.target_width = data.target_width;
  if (targets_known) {
    check_targets(model, data, out);
    choose_metrics(model, data, out);
    check_augment(model, data, out);
  }
}

}  // namespace lamina
