#include "runtime/model_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "config_impl.hpp"
#include "lamina/error.hpp"
#include "model_impl.hpp"
#include "printable.hpp"
#include "suggest.hpp"

namespace {
// Far above any real model (a ResNet-152 has about 500 layers with its BatchNorms and ReLUs),
// far below what exhausts memory: 20,000 layers of a small model took 12 GB.
constexpr std::size_t kMaxLayers = 10000;
}

namespace lamina {

const Schema& data_schema() {
  static const Schema s{
      Key::string("source",
                  "the data source type (`lamina plugins` lists them; each adds its own keys to this section)")
          .def("fashion_mnist"),
      Key::number("scale",
                  "factor applied to every value when a batch is made "
                  "(default: the source's; 1/255 for 8-bit images, so pixels land in [0, 1])")
          .above(0),
      Key::integer("train_limit", "use only the first N training samples (0 = all)").def(0).at_least(0),
      Key::integer("test_limit", "use only the first N test samples (0 = all)").def(0).at_least(0),
      Key::number("validation_split",
                  "fraction of the training samples held out for validation, drawn "
                  "with a seeded shuffle (0 = none)")
          .def(0.0)
          .at_least(0)
          .below(1),
  };
  return s;
}

const Schema& train_schema() {
  static const Schema s{
      Key::integer("epochs", "passes over the training set").def(10).at_least(1).at_most(1000000),
      Key::integer("batch_size", "samples per gradient step").def(100).at_least(1).at_most(1 << 20),
      Key::integer("seed", "seeds initialization, shuffling, dropout masks and the validation split")
          .def(42)
          .at_least(0),
      Key::boolean("shuffle", "draw each epoch's batches from a seeded shuffle").def(true),
      Key::string("train_metrics",
                  "how train loss/accuracy are measured: eval = a full pass in eval mode "
                  "after each epoch; running = averages over the epoch's batches (free)")
          .def("eval")
          .one_of({"eval", "running"}),
      Key::integer("eval_batch_size",
                   "batch size of evaluation passes (memory only; results do not depend on it "
                   "for layers without batch statistics in eval mode)")
          .def(1000)
          .at_least(1)
          .at_most(1 << 20),
      Key::boolean("drop_last",
                   "skip each epoch's last batch when it is smaller than batch_size (batchnorm "
                   "cannot train on a batch of one)")
          .def(false),
      Key::integer("log_every", "also record the training loss every N steps in iterations.csv (0 = off)")
          .def(0)
          .at_least(0),
  };
  return s;
}

namespace {

const std::vector<std::string> kSections{"name",      "data", "layers", "loss", "metrics",
                                         "regularizer", "optimizer", "train"};
// A layer's `name` and `inputs` make the model a graph; `regularizer` is its own penalty.
const std::vector<std::string> kLayerBuilderKeys{"regularizer", "name", "inputs"};
// `inputs: [input, ...]` names the model's input.
constexpr const char* kInputName = "input";
// The optimizer's mapping may name its learning-rate schedule (any optimizer, any schedule).
const std::vector<std::string> kOptimizerBuilderKeys{"schedule"};
// train: {callbacks: [...]}: each item a component of the Callback kind.
const std::vector<std::string> kTrainBuilderKeys{"callbacks"};
// metrics: [{type: top_k_accuracy, k: 5, name: top5}]: `name` is its column's name.
const std::vector<std::string> kMetricBuilderKeys{"name"};

Config section(const ModelFile::Impl& mf, const std::string& key, const Registry& registry) {
  YAML::Node n = detail::lookup(mf.root, key);
  if (!n.IsDefined() || n.IsNull()) n.reset(YAML::Node(YAML::NodeType::Map));
  return detail::unbound(n, mf.source, key, &registry);
}


// Binds `spec` as a component of `kind` and records its type in the manifest (once per type).
ComponentSpec bind_component(const Registry& registry, Kind kind, const Config& spec, std::vector<TypeUse>& uses,
                             std::vector<std::string> builder_keys = {}) {
  ComponentSpec c{registry.bind(kind, spec, builder_keys), std::move(builder_keys)};
  const TypeInfo* info = registry.find(kind, c.bound.type());
  const bool seen = std::any_of(uses.begin(), uses.end(),
                                [&](const TypeUse& u) { return u.kind == kind && u.type == c.bound.type(); });
  if (info != nullptr && !seen) {
    uses.push_back({kind, info->name, info->provider.plugin, info->provider.version, info->provider.file});
  }
  return c;
}

// The `data:` section: the source's own keys are validated by its type's schema, the shared
// ones by data_schema(); each side lets the other's keys through. A run's copy of the model
// (`run_copy`) may hold keys an older Lamina wrote for every source: they are ignored.
void read_data(const ModelFile::Impl& mf, const Registry& registry, bool run_copy, ModelSpec& m) {
  Config spec = section(mf, "data", registry);
  std::vector<std::string> source_extra = shared_data_keys();
  const YAML::Node node = detail::impl_of(spec).node;
  if (run_copy && node.IsMap()) {
    for (const auto& kv : node) source_extra.push_back(kv.first.as<std::string>(""));
  }
  Config source = registry.bind(Kind::DataSource, spec, source_extra, "source", "fashion_mnist");
  std::vector<std::string> source_keys{"source"};
  for (const auto& k : source.schema()) source_keys.push_back(k.name());
  if (run_copy) source_keys = source_extra;
  m.data = detail::bind(spec, data_schema(), "", source_keys, "data");
  m.source = {source, {}};

  DataSpec& d = m.data_spec;
  d.source = source.type();
  if (m.data.has("scale")) d.scale = m.data.get<float>("scale");
  d.train_limit = m.data.get<std::int64_t>("train_limit");
  d.test_limit = m.data.get<std::int64_t>("test_limit");
  d.validation_split = m.data.get<double>("validation_split");
  const TypeInfo* info = registry.find(Kind::DataSource, source.type());
  m.types.push_back({Kind::DataSource, info->name, info->provider.plugin, info->provider.version, info->provider.file});
  d.plugin = info->provider.plugin;
  d.plugin_file = info->provider.file;
}

TrainSpec read_train_spec(const Config& cfg) {
  TrainSpec t;
  t.epochs = cfg.get<std::int64_t>("epochs");
  t.batch_size = cfg.get<std::int64_t>("batch_size");
  t.seed = static_cast<std::uint64_t>(cfg.get<std::int64_t>("seed"));
  t.shuffle = cfg.get<bool>("shuffle");
  t.train_metrics = cfg.get<std::string>("train_metrics");
  t.eval_batch_size = cfg.get<std::int64_t>("eval_batch_size");
  t.drop_last = cfg.get<bool>("drop_last");
  t.log_every = cfg.get<std::int64_t>("log_every");
  return t;
}

// The type a layer entry names, with '-' read as '_', or "" when it names none (bind() then
// says what is wrong).
std::string type_named(const YAML::Node& spec) {
  YAML::Node t = spec.IsMap() ? detail::lookup(spec, "type") : spec;
  std::string type = t.IsDefined() && t.IsScalar() ? t.Scalar() : "";
  std::replace(type.begin(), type.end(), '-', '_');
  return type;
}

// A layer name is a --set path segment (layers.NAME.key): no dots, and not a number, which
// would read as an index.
bool valid_layer_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && name != kInputName &&
         std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }) &&
         !std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// `layers:`: each entry a layer or a merge, with an optional `name` and `inputs`. Inputs name
// earlier layers (or `input`), so the graph is acyclic by construction and runs in file order.
void read_layers(const ModelFile::Impl& mf, const Registry& registry, const YAML::Node& layers, ModelSpec& m) {
  const Source& src = *mf.source;
  std::map<std::string, std::size_t> index_of;  // names of the layers read so far
  std::vector<std::string> all_names;            // every name in the file, for forward references
  for (const auto& spec_node : layers) {
    if (!spec_node.IsMap()) continue;
    if (YAML::Node n = detail::lookup(spec_node, "name"); n.IsDefined() && n.IsScalar()) {
      all_names.push_back(n.Scalar());
    }
  }
  std::vector<bool> read(layers.size(), false);
  std::size_t i = 0;
  for (const auto& spec_node : layers) {
    LayerSpec layer;
    layer.path = "layers." + std::to_string(i);
    const std::string& path = layer.path;
    layer.where = detail::location(src, path, spec_node);
    // `- relu`: components take the bare-name form, but a layer also has name and inputs keys,
    // so its entry stays a mapping; say what to write, where it was written.
    if (spec_node.IsScalar()) {
      detail::fail_at(src, path, spec_node,
                      fmt::format("a layer is written as a mapping: `- {{type: {}}}`, not `- {}`",
                                  detail::printable(spec_node.Scalar(), 40), detail::printable(spec_node.Scalar(), 40)));
    }
    std::string& name = layer.name;
    if (YAML::Node n = spec_node.IsMap() ? detail::lookup(spec_node, "name") : YAML::Node(); n.IsDefined()) {
      if (!n.IsScalar() || !valid_layer_name(n.Scalar())) {
        detail::fail_at(src, path + ".name", n,
                        fmt::format("expected a layer name of letters, digits, '_' and '-' (not only digits, not "
                                    "'{}', at most 64 characters), found {}",
                                    kInputName, detail::describe(n)));
      }
      name = n.Scalar();
      if (auto it = index_of.find(name); it != index_of.end()) {
        detail::fail_at(src, path + ".name", n,
                        fmt::format("the name '{}' is already taken by layers.{}; names must be unique", name,
                                    it->second));
      }
    }

    layer.merge = registry.find(Kind::Merge, type_named(spec_node)) != nullptr;
    std::vector<int>& inputs = layer.inputs;
    YAML::Node in = spec_node.IsMap() ? detail::lookup(spec_node, "inputs") : YAML::Node();
    layer.inputs_written = in.IsDefined();
    if (in.IsDefined()) {
      YAML::Node list = in;
      if (in.IsScalar()) {
        list.reset(YAML::Node(YAML::NodeType::Sequence));
        list.push_back(in.Scalar());
      }
      if (!list.IsSequence() || list.size() == 0) {
        detail::fail_at(src, path + ".inputs", in,
                        fmt::format("expected a list of layer names (or '{}', the model's input), found {}",
                                    kInputName, detail::describe(in)));
      }
      for (std::size_t k = 0; k < list.size(); ++k) {
        const YAML::Node item = list[k];
        const std::string where = fmt::format("{}.inputs.{}", path, k);
        if (!item.IsScalar()) {
          detail::fail_at(src, where, in.IsScalar() ? in : item,
                          fmt::format("expected a layer name, found {}", detail::describe(item)));
        }
        const std::string ref = item.Scalar();
        layer.refs.push_back(ref);
        if (ref == kInputName) {
          inputs.push_back(Network::kInput);
        } else if (auto it = index_of.find(ref); it != index_of.end()) {
          inputs.push_back(static_cast<int>(it->second));
        } else if (ref == name || std::find(all_names.begin(), all_names.end(), ref) != all_names.end()) {
          detail::fail_at(src, where, in.IsScalar() ? in : item,
                          fmt::format("'{}' is {}; a layer's inputs must come before it in `layers:` (the "
                                      "model runs in file order, so it cannot loop back)",
                                      ref, ref == name ? "this layer itself" : "defined further down"));
        } else {
          std::vector<std::string> known{kInputName};
          for (const auto& [k2, v] : index_of) known.push_back(k2);
          detail::fail_at(src, where, in.IsScalar() ? in : item,
                          fmt::format("no layer named '{}' before this one{}; known: {}", ref,
                                      detail::did_you_mean(ref, known), detail::join(known)));
        }
      }
      if (!layer.merge && inputs.size() != 1) {
        const auto merges = registry.names(Kind::Merge);
        detail::fail_at(src, path + ".inputs", in,
                        fmt::format("layer type '{}' takes one input, `inputs` names {}; merge several with a "
                                    "merge layer ({})",
                                    type_named(spec_node), inputs.size(),
                                    merges.empty() ? "none loaded" : detail::join(merges)));
      }
    } else if (layer.merge) {
      detail::fail_at(src, path, spec_node,
                      fmt::format("'{}' merges several layers: list them in `inputs: [name, ...]` (name them with "
                                  "`name:`; '{}' is the model's input)",
                                  type_named(spec_node), kInputName));
    } else {
      inputs.push_back(static_cast<int>(i) - 1);
    }
    for (int j : inputs) {
      if (j != Network::kInput) read[static_cast<std::size_t>(j)] = true;
    }

    layer.component = bind_component(registry, layer.merge ? Kind::Merge : Kind::Layer,
                                     detail::unbound(spec_node, mf.source, path, &registry), m.types, kLayerBuilderKeys);
    if (YAML::Node r = spec_node.IsMap() ? detail::lookup(spec_node, "regularizer") : YAML::Node(); r.IsDefined()) {
      layer.regularizer = bind_component(registry, Kind::Regularizer,
                                         detail::unbound(r, mf.source, path + ".regularizer", &registry), m.types);
    }
    if (!name.empty()) index_of.emplace(name, i);
    m.layers.push_back(std::move(layer));
    ++i;
  }
  // Every output but the last must feed a later layer: a branch that leads nowhere is a mistake.
  for (std::size_t k = 0; k + 1 < layers.size(); ++k) {
    if (!read[k]) {
      detail::fail_at(src, "layers." + std::to_string(k), layers[k],
                      fmt::format("the output of this layer ({}) is used by no later layer, and only the last "
                                  "layer is the model's output; list it in a later layer's `inputs`",
                                  m.layers[k].component.bound.type()));
    }
  }
}

// A metric's column name: letters, digits and '_', as Key::metric values are checked.
bool valid_metric_name(const std::string& name) {
  return !name.empty() && name.size() <= 48 && name != "loss" &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
         });
}

// `metrics:`, or the candidates for the defaults when the file has none.
void read_metrics(const ModelFile::Impl& mf, const Registry& registry, ModelSpec& m) {
  const Source& src = *mf.source;
  YAML::Node list = detail::lookup(mf.root, "metrics");
  if (!list.IsDefined() || list.IsNull()) {
    for (const auto& type : registry.names(Kind::Metric)) {
      const TypeInfo* info = registry.find(Kind::Metric, type);
      if (std::any_of(info->keys.begin(), info->keys.end(), [](const Key& k) { return k.is_required(); })) continue;
      m.metrics.push_back({registry.bind(Kind::Metric, detail::unbound(YAML::Node(type), mf.source, "metrics", &registry)),
                           {}});
      m.metric_names.push_back(type);
    }
    return;
  }
  if (!list.IsSequence()) {
    detail::fail_at(src, "metrics", list,
                    fmt::format("expected a list of metrics (`metrics: [accuracy, macro_f1]`), found {}",
                                detail::describe(list)));
  }
  m.metrics_written = true;
  std::size_t k = 0;
  for (const auto& item : list) {
    const std::string path = "metrics." + std::to_string(k++);
    ComponentSpec c{registry.bind(Kind::Metric, detail::unbound(item, mf.source, path, &registry), kMetricBuilderKeys),
                    kMetricBuilderKeys};
    std::string name = c.bound.type();
    // A bare `mae` has no name of its own; only a mapping can give one.
    if (YAML::Node n = item.IsMap() ? detail::lookup(item, "name") : YAML::Node(); item.IsMap() && n.IsDefined()) {
      if (!n.IsScalar() || !valid_metric_name(n.Scalar())) {
        detail::fail_at(src, path + ".name", n,
                        fmt::format("expected a metric name of lowercase letters, digits and '_' (not 'loss', at "
                                    "most 48 characters), found {}",
                                    detail::describe(n)));
      }
      name = n.Scalar();
    }
    if (auto it = std::find(m.metric_names.begin(), m.metric_names.end(), name); it != m.metric_names.end()) {
      detail::fail_at(src, path, item,
                      fmt::format("metrics.{} is already named '{}'; metrics.csv needs one column per name: give "
                                  "one a `name:`",
                                  it - m.metric_names.begin(), name));
    }
    m.metric_names.push_back(name);
    m.metrics.push_back(std::move(c));
  }
}

}  // namespace

ModelSpec read_model_spec(const ModelFile& file, const Registry& registry, bool run_copy) {
  const ModelFile::Impl& mf = file.impl();
  const Source& src = *mf.source;
  for (const auto& kv : mf.root) {
    const std::string key = kv.first.Scalar();
    if (std::find(kSections.begin(), kSections.end(), key) == kSections.end()) {
      throw InputError(fmt::format("{}: unknown section '{}'{}; a model file has: {}",
                                   detail::location(src, key, kv.first), key, detail::did_you_mean(key, kSections),
                                   detail::join(kSections)));
    }
  }

  ModelSpec m;
  m.name = file.name();
  // The name becomes part of the run folder's path: no separators, no hidden or parent folders.
  const bool name_ok = !m.name.empty() && m.name.size() <= 100 && m.name[0] != '.' &&
                       std::all_of(m.name.begin(), m.name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                       });
  if (YAML::Node n = detail::lookup(mf.root, "name"); n.IsDefined() && (!n.IsScalar() || !name_ok)) {
    detail::fail_at(
        src, "name", n,
        fmt::format("expected a name of letters, digits, '_', '-' and '.' (not first), found {}", detail::describe(n)));
  }
  if (!name_ok) m.name = "model";

  read_data(mf, registry, run_copy, m);

  YAML::Node layers = detail::lookup(mf.root, "layers");
  if (!layers.IsDefined() || !layers.IsSequence() || layers.size() == 0) {
    detail::fail_at(src, "layers", layers.IsDefined() ? layers : mf.root,
                    layers.IsDefined()
                        ? fmt::format("expected a non-empty list of layers, found {}", detail::describe(layers))
                        : "the model has no `layers:` list");
  }
  if (layers.size() > kMaxLayers) {
    detail::fail_at(src, "layers", layers,
                    fmt::format("{} layers; a model has at most {} (README, \"Limits\")", layers.size(), kMaxLayers));
  }
  read_layers(mf, registry, layers, m);

  auto required_component = [&](const char* key) {
    YAML::Node n = detail::lookup(mf.root, key);
    if (!n.IsDefined() || n.IsNull()) {
      detail::fail_at(src, "", mf.root, fmt::format("the model has no `{}:` section", key));
    }
    return detail::unbound(n, mf.source, key, &registry);
  };
  m.loss = bind_component(registry, Kind::Loss, required_component("loss"), m.types);
  read_metrics(mf, registry, m);
  if (YAML::Node r = detail::lookup(mf.root, "regularizer"); r.IsDefined() && !r.IsNull()) {
    m.regularizer =
        bind_component(registry, Kind::Regularizer, detail::unbound(r, mf.source, "regularizer", &registry), m.types);
  }
  const Config optimizer_spec = required_component("optimizer");
  m.optimizer = bind_component(registry, Kind::Optimizer, optimizer_spec, m.types, kOptimizerBuilderKeys);
  if (YAML::Node node = detail::lookup(detail::impl_of(optimizer_spec).node, "schedule");
      node.IsDefined() && !node.IsNull()) {
    m.schedule = bind_component(registry, Kind::Schedule,
                                detail::unbound(node, mf.source, "optimizer.schedule", &registry), m.types);
  }

  const Config train_spec = section(mf, "train", registry);
  m.train_keys = detail::bind(train_spec, train_schema(), "", kTrainBuilderKeys, "train");
  m.train = read_train_spec(m.train_keys);
  if (YAML::Node list = detail::lookup(detail::impl_of(train_spec).node, "callbacks");
      list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      detail::fail_at(src, "train.callbacks", list,
                      fmt::format("expected a list of callbacks, found {}", detail::describe(list)));
    }
    m.callbacks_written = true;
    std::size_t k = 0;
    for (const auto& item : list) {
      const std::string path = "train.callbacks." + std::to_string(k++);
      m.callbacks.push_back(
          bind_component(registry, Kind::Callback, detail::unbound(item, mf.source, path, &registry), m.types));
    }
  }
  return m;
}

namespace {
YAML::Node resolved(const ComponentSpec& c) { return detail::resolved(c.bound, c.builder_keys); }
}  // namespace

std::string resolved_yaml(const ModelSpec& m) {
  YAML::Node out(YAML::NodeType::Map);
  out["name"] = m.name;
  YAML::Node data = resolved(m.source);
  const YAML::Node shared_resolved = detail::resolved(m.data);
  for (const auto& key : shared_data_keys()) {
    if (key != "source" && shared_resolved[key]) data[key] = shared_resolved[key];
  }
  out["data"] = data;
  for (const LayerSpec& layer : m.layers) {
    YAML::Node l = resolved(layer.component);
    if (!layer.name.empty()) l["name"] = layer.name;
    if (layer.inputs_written) {
      YAML::Node names(YAML::NodeType::Sequence);
      for (const auto& ref : layer.refs) names.push_back(ref);
      l["inputs"] = names;
    }
    if (layer.regularizer) l["regularizer"] = resolved(*layer.regularizer);
    out["layers"].push_back(l);
  }
  out["loss"] = resolved(m.loss);
  if (m.metrics_written) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (std::size_t i = 0; i < m.metrics.size(); ++i) {
      YAML::Node c = resolved(m.metrics[i]);
      if (m.metric_names[i] != m.metrics[i].bound.type()) c["name"] = m.metric_names[i];
      list.push_back(c);
    }
    out["metrics"] = list;
  }
  if (m.regularizer) out["regularizer"] = resolved(*m.regularizer);
  YAML::Node optimizer = resolved(m.optimizer);
  if (m.schedule) optimizer["schedule"] = resolved(*m.schedule);
  out["optimizer"] = optimizer;
  out["train"] = detail::resolved(m.train_keys, kTrainBuilderKeys);
  if (m.callbacks_written) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& c : m.callbacks) list.push_back(resolved(c));
    out["train"]["callbacks"] = list;
  }
  YAML::Emitter emitter;
  emitter << out;
  return std::string(emitter.c_str()) + "\n";
}

}  // namespace lamina
