#include "runtime/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

#include "config_impl.hpp"
#include "lamina/error.hpp"
#include "lamina/layer.hpp"
#include "lamina/merge.hpp"
#include "model_impl.hpp"
#include "printable.hpp"
#include "runtime/plugin_guard.hpp"
#include "suggest.hpp"

namespace fs = std::filesystem;

namespace {
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

const std::vector<std::string> kSections{"name", "data", "layers", "loss", "regularizer", "optimizer", "train"};
// A layer's `name` and `inputs` make the model a graph; `regularizer` is its own penalty.
const std::vector<std::string> kLayerBuilderKeys{"regularizer", "name", "inputs"};
// `inputs: [input, ...]` names the model's input.
constexpr const char* kInputName = "input";
// The optimizer's mapping may name its learning-rate schedule (any optimizer, any schedule).
const std::vector<std::string> kOptimizerBuilderKeys{"schedule"};
// train: {callbacks: [...]}: each item a component of the Callback kind.
const std::vector<std::string> kTrainBuilderKeys{"callbacks"};

Config section(const ModelFile::Impl& mf, const std::string& key, const Registry& registry) {
  YAML::Node n = detail::lookup(mf.root, key);
  if (!n.IsDefined() || n.IsNull()) n.reset(YAML::Node(YAML::NodeType::Map));
  return detail::unbound(n, mf.source, key, &registry);
}

}  // namespace

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

namespace {

template <class T>
std::unique_ptr<T> make(const Registry& registry, const Config& spec, YAML::Node& resolved,
                        std::span<const std::string> builder_keys = {}, std::vector<TypeUse>* uses = nullptr) {
  Config bound = registry.bind(T::kind, spec, builder_keys);
  resolved = detail::resolved(bound, builder_keys);
  if (uses != nullptr) {
    const TypeInfo* info = registry.find(T::kind, bound.type());
    const bool seen = std::any_of(uses->begin(), uses->end(),
                                  [&](const TypeUse& u) { return u.kind == T::kind && u.type == bound.type(); });
    if (info != nullptr && !seen) uses->push_back({T::kind, info->name, info->provider.plugin, info->provider.version, info->provider.file});
  }
  return std::unique_ptr<T>(static_cast<T*>(registry.create_bound(T::kind, bound).release()));
}

// The `data:` section: the source's own keys are validated by its type's schema, the shared
// ones by data_schema(); each side lets the other's keys through. A run's copy of the model
// (`run_copy`) may hold keys an older Lamina wrote for every source: they are ignored.
DataSpec read_data_spec(const ModelFile::Impl& mf, const Registry& registry, bool run_copy, YAML::Node& resolved,
                        std::vector<TypeUse>& uses) {
  Config spec = section(mf, "data", registry);
  std::vector<std::string> shared = shared_data_keys();
  std::vector<std::string> source_extra = shared;
  const YAML::Node node = detail::impl_of(spec).node;
  if (run_copy && node.IsMap()) {
    for (const auto& kv : node) source_extra.push_back(kv.first.as<std::string>(""));
  }
  Config source = registry.bind(Kind::DataSource, spec, source_extra, "source", "fashion_mnist");
  std::vector<std::string> source_keys{"source"};
  for (const auto& k : source.schema()) source_keys.push_back(k.name());
  if (run_copy) source_keys = source_extra;
  Config data = detail::bind(spec, data_schema(), "", source_keys, "data");

  DataSpec d;
  d.source = source.type();
  if (data.has("scale")) d.scale = data.get<float>("scale");
  d.train_limit = data.get<std::int64_t>("train_limit");
  d.test_limit = data.get<std::int64_t>("test_limit");
  d.validation_split = data.get<double>("validation_split");

  resolved = detail::resolved(source);
  const YAML::Node shared_resolved = detail::resolved(data);
  for (const auto& key : shared) {
    if (key != "source" && shared_resolved[key]) resolved[key] = shared_resolved[key];
  }
  const TypeInfo* info = registry.find(Kind::DataSource, source.type());
  uses.push_back({Kind::DataSource, info->name, info->provider.plugin, info->provider.version, info->provider.file});
  d.plugin = info->provider.plugin;
  d.plugin_file = info->provider.file;
  Registry::Erased made = registry.create_bound(Kind::DataSource, source);
  d.reader = std::shared_ptr<DataSource>(static_cast<DataSource*>(made.release()));
  return d;
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
void read_layers(const ModelFile::Impl& mf, const Registry& registry, const YAML::Node& layers, Model& m,
                 YAML::Node& out) {
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
    const std::string path = "layers." + std::to_string(i);
    const std::string where = detail::location(src, path, spec_node);
    // `- relu`: components take the bare-name form, but a layer also has name and inputs keys,
    // so its entry stays a mapping; say what to write, where it was written.
    if (spec_node.IsScalar()) {
      detail::fail_at(src, path, spec_node,
                      fmt::format("a layer is written as a mapping: `- {{type: {}}}`, not `- {}`",
                                  detail::printable(spec_node.Scalar(), 40), detail::printable(spec_node.Scalar(), 40)));
    }
    std::string name;
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

    const bool merge = registry.find(Kind::Merge, type_named(spec_node)) != nullptr;
    std::vector<int> inputs;
    std::vector<std::string> refs;  // as written, for the resolved model
    YAML::Node in = spec_node.IsMap() ? detail::lookup(spec_node, "inputs") : YAML::Node();
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
        refs.push_back(ref);
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
      if (!merge && inputs.size() != 1) {
        const auto merges = registry.names(Kind::Merge);
        detail::fail_at(src, path + ".inputs", in,
                        fmt::format("layer type '{}' takes one input, `inputs` names {}; merge several with a "
                                    "merge layer ({})",
                                    type_named(spec_node), inputs.size(),
                                    merges.empty() ? "none loaded" : detail::join(merges)));
      }
    } else if (merge) {
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

    Config spec = detail::unbound(spec_node, mf.source, path, &registry);
    YAML::Node resolved;
    std::string type;
    if (merge) {
      auto made = make<Merge>(registry, spec, resolved, kLayerBuilderKeys, &m.types);
      type = resolved["type"].as<std::string>();
      m.network.add(std::move(made), path, type, inputs);
    } else {
      auto made = make<Layer>(registry, spec, resolved, kLayerBuilderKeys, &m.types);
      type = resolved["type"].as<std::string>();
      m.network.add(std::move(made), path, type, inputs);
    }
    const detail::PluginSite site = plugin_site(m, merge ? Kind::Merge : Kind::Layer, type, path);
    m.network.set_provider(site.plugin, site.file);
    m.network.locate(i, where);
    if (!name.empty()) resolved["name"] = name;
    if (in.IsDefined()) {
      YAML::Node names(YAML::NodeType::Sequence);
      for (const auto& ref : refs) names.push_back(ref);
      resolved["inputs"] = names;
    }
    std::unique_ptr<Regularizer> reg;
    if (YAML::Node r = spec_node.IsMap() ? detail::lookup(spec_node, "regularizer") : YAML::Node(); r.IsDefined()) {
      YAML::Node r_resolved;
      reg = make<Regularizer>(registry, detail::unbound(r, mf.source, path + ".regularizer", &registry), r_resolved, {},
                              &m.types);
      m.layer_regularizer_types.resize(i + 1);
      m.layer_regularizer_types[i] = r_resolved["type"].as<std::string>();
      resolved["regularizer"] = r_resolved;
    }
    out["layers"].push_back(resolved);
    m.layer_regularizers.push_back(std::move(reg));
    m.layer_names.push_back(name);
    if (!name.empty()) index_of.emplace(name, i);
    ++i;
  }
  // Every output but the last must feed a later layer: a branch that leads nowhere is a mistake.
  for (std::size_t k = 0; k + 1 < layers.size(); ++k) {
    if (!read[k]) {
      detail::fail_at(src, "layers." + std::to_string(k), layers[k],
                      fmt::format("the output of this layer ({}) is used by no later layer, and only the last "
                                  "layer is the model's output; list it in a later layer's `inputs`",
                                  m.network.type(k)));
    }
  }
}

}  // namespace

Model build_model(const ModelFile& file, const Registry& registry, bool run_copy) {
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

  Model m;
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
  YAML::Node out(YAML::NodeType::Map);
  out["name"] = m.name;

  YAML::Node data_resolved;
  m.data = read_data_spec(mf, registry, run_copy, data_resolved, m.types);
  // The resolved model lives in the run folder: Key::path values are written absolute, so they
  // do not depend on where the original file was.
  out["data"] = data_resolved;

  YAML::Node layers = detail::lookup(mf.root, "layers");
  if (!layers.IsDefined() || !layers.IsSequence() || layers.size() == 0) {
    detail::fail_at(src, "layers", layers.IsDefined() ? layers : mf.root,
                    layers.IsDefined()
                        ? fmt::format("expected a non-empty list of layers, found {}", detail::describe(layers))
                        : "the model has no `layers:` list");
  }
  // Far above any real model (a ResNet-152 has about 500 layers with its BatchNorms and ReLUs),
  // far below what exhausts memory: 20,000 layers of a small model took 12 GB.
  if (layers.size() > kMaxLayers) {
    detail::fail_at(src, "layers", layers,
                    fmt::format("{} layers; a model has at most {} (README, \"Limits\")", layers.size(), kMaxLayers));
  }
  read_layers(mf, registry, layers, m, out);

  auto required_component = [&](const char* key) {
    YAML::Node n = detail::lookup(mf.root, key);
    if (!n.IsDefined() || n.IsNull()) {
      detail::fail_at(src, "", mf.root, fmt::format("the model has no `{}:` section", key));
    }
    return detail::unbound(n, mf.source, key, &registry);
  };
  YAML::Node resolved;
  m.loss = make<Loss>(registry, required_component("loss"), resolved, {}, &m.types);
  out["loss"] = resolved;
  if (YAML::Node r = detail::lookup(mf.root, "regularizer"); r.IsDefined() && !r.IsNull()) {
    m.regularizer =
        make<Regularizer>(registry, detail::unbound(r, mf.source, "regularizer", &registry), resolved, {}, &m.types);
    m.regularizer_type = resolved["type"].as<std::string>();
    out["regularizer"] = resolved;
  }
  const Config optimizer_spec = required_component("optimizer");
  m.optimizer = make<Optimizer>(registry, optimizer_spec, resolved, kOptimizerBuilderKeys, &m.types);
  if (YAML::Node node = detail::lookup(detail::impl_of(optimizer_spec).node, "schedule");
      node.IsDefined() && !node.IsNull()) {
    YAML::Node s_resolved;
    m.schedule = make<Schedule>(registry, detail::unbound(node, mf.source, "optimizer.schedule", &registry),
                                s_resolved, {}, &m.types);
    resolved["schedule"] = s_resolved;
  }
  out["optimizer"] = resolved;

  const Config train_spec = section(mf, "train", registry);
  Config train = detail::bind(train_spec, train_schema(), "", kTrainBuilderKeys, "train");
  m.train = read_train_spec(train);
  out["train"] = detail::resolved(train, kTrainBuilderKeys);
  if (YAML::Node list = detail::lookup(detail::impl_of(train_spec).node, "callbacks");
      list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      detail::fail_at(src, "train.callbacks", list,
                      fmt::format("expected a list of callbacks, found {}", detail::describe(list)));
    }
    YAML::Node resolved_list(YAML::NodeType::Sequence);
    std::size_t k = 0;
    for (const auto& item : list) {
      const std::string path = "train.callbacks." + std::to_string(k++);
      YAML::Node c_resolved;
      m.callbacks.push_back(
          make<Callback>(registry, detail::unbound(item, mf.source, path, &registry), c_resolved, {}, &m.types));
      m.callback_types.push_back(c_resolved["type"].as<std::string>());
      resolved_list.push_back(c_resolved);
    }
    out["train"]["callbacks"] = resolved_list;
  }

  YAML::Emitter emitter;
  emitter << out;
  m.resolved_yaml = std::string(emitter.c_str()) + "\n";
  return m;
}

void build_network(Model& model, const DataSplits& data) {
  Rng init(model.train.seed, Rng::Stream::Init);
  const Shape out = model.network.build(data.sample_shape, init);
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
  const std::size_t last = model.network.size() - 1;
  if (out.rank() != 1) {
    throw InputError(
        fmt::format("{} ({}): the last layer gives per-sample scores of shape {}; the loss needs one "
                    "score per class, e.g. end with an affine layer whose units is the number of classes",
                    model.network.path(last), model.network.type(last), out.str()));
  }
  if (out[0] <= data.max_label) {
    throw InputError(
        fmt::format("{} ({}): the last layer gives {} scores per sample but the labels go up to {} "
                    "({} classes); set its units to {}",
                    model.network.path(last), model.network.type(last), out[0], data.max_label, data.max_label + 1,
                    data.max_label + 1));
  }
}

}  // namespace lamina
