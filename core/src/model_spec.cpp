#include "runtime/model_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

#include "config_impl.hpp"
#include "lamina/error.hpp"
#include "model_impl.hpp"
#include "name_pattern.hpp"
#include "printable.hpp"
#include "suggest.hpp"

namespace fs = std::filesystem;

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
      Key::numbers("classes",
                   "keep only the samples of these classes, numbered 0, 1, ... in the order given "
                   "(`[5, 6, 7, 8, 9]`: class 5 becomes 0); class targets only, before the limits and "
                   "the validation split")
          .at_least(0),
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

const Schema& param_rule_schema() {
  static const Schema s{
      Key::string("match", "a pattern over the tensors' names: `*` for any characters (`layers.stem.*`, "
                           "`layers.*.b`), by layer index or name")
          .required(),
      Key::boolean("trainable", "false: no optimizer or regularizer touches the tensors; they keep their values"),
      Key::number("lr_mult", "the tensors' learning rate is the optimizer's times this").at_least(0).at_most(1e6),
      Key::number("decay_mult", "the regularizer's (and weight decay's) strength on them is scaled by this")
          .at_least(0)
          .at_most(1e6),
  };
  return s;
}

const Schema& init_from_schema() {
  static const Schema s{
      Key::path("run", "the run folder whose weights the model starts from").required(),
      Key::string("weights", "which of its checkpoints: last (model.safetensors) or best (model-best.safetensors)")
          .def("last")
          .one_of({"last", "best"}),
      Key::boolean("strict", "make a tensor left at its initialization, a shape that differs or a pattern that "
                             "matches nothing an error instead of a report")
          .def(false),
  };
  return s;
}

namespace {

const std::vector<std::string> kSections{"name",   "data",        "init_from", "blocks", "layers",         "loss",
                                         "metrics", "regularizer", "optimizer", "train",  "layers_expanded"};
// A layer's `name` and `inputs` make the model a graph; `regularizer` is its own penalty.
const std::vector<std::string> kLayerBuilderKeys{"regularizer", "name", "inputs", "repeat"};
// `inputs: [input, ...]` names the model's input.
constexpr const char* kInputName = "input";
// The optimizer's mapping may name its learning-rate schedule (any optimizer, any schedule).
const std::vector<std::string> kOptimizerBuilderKeys{"schedule"};
// train: {callbacks: [...]}: each item a component of the Callback kind; params: [...] the rules
// of param_rule_schema().
const std::vector<std::string> kTrainBuilderKeys{"callbacks", "params"};
// init_from: {run: DIR, tensors: ...}: the tensors are a list or a mapping of patterns.
const std::vector<std::string> kInitFromBuilderKeys{"tensors"};
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
  source_keys.push_back("augment");  // a list of components, read below
  if (run_copy) source_keys = source_extra;
  m.data = detail::bind(spec, data_schema(), "", source_keys, "data");
  m.source = {source, {}};

  DataSpec& d = m.data_spec;
  d.source = source.type();
  if (m.data.has("scale")) d.scale = m.data.get<float>("scale");
  d.train_limit = m.data.get<std::int64_t>("train_limit");
  d.test_limit = m.data.get<std::int64_t>("test_limit");
  d.validation_split = m.data.get<double>("validation_split");
  if (m.data.has("classes")) {
    const YAML::Node list = detail::lookup(node, "classes");
    const std::vector<double> classes = m.data.numbers("classes");
    if (classes.empty()) detail::fail_at(*mf.source, "data.classes", list, "expected at least one class");
    for (std::size_t k = 0; k < classes.size(); ++k) {
      const YAML::Node item = list.IsSequence() ? list[k] : list;
      if (classes[k] != std::floor(classes[k]) || classes[k] > (1 << 24)) {
        detail::fail_at(*mf.source, fmt::format("data.classes.{}", k), item,
                        fmt::format("expected a class number (an integer >= 0), found {}", detail::describe(item)));
      }
      const auto c = static_cast<std::int32_t>(classes[k]);
      if (std::find(d.classes.begin(), d.classes.end(), c) != d.classes.end()) {
        detail::fail_at(*mf.source, fmt::format("data.classes.{}", k), item,
                        fmt::format("class {} is listed twice; each class is kept once", c));
      }
      d.classes.push_back(c);
    }
  }
  const TypeInfo* info = registry.find(Kind::DataSource, source.type());
  m.types.push_back({Kind::DataSource, info->name, info->provider.plugin, info->provider.version, info->provider.file});
  d.plugin = info->provider.plugin;
  d.plugin_file = info->provider.file;
  // data.augment: [{type: random_crop, padding: 2}, ...], each a component of the Augmentation kind.
  if (YAML::Node list = detail::lookup(node, "augment"); list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      detail::fail_at(*mf.source, "data.augment", list,
                      fmt::format("expected a list of augmentations, found {}", detail::describe(list)));
    }
    std::size_t k = 0;
    for (const auto& item : list) {
      const std::string path = "data.augment." + std::to_string(k++);
      m.augment.push_back(
          bind_component(registry, Kind::Augmentation, detail::unbound(item, mf.source, path, &registry), m.types));
    }
  }
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

// `blocks:` NAME: {args: {ARG: DEFAULT, ...}, layers: [...]}; an argument whose default is
// null (`~`) must be given by every use.
struct BlockDef {
  YAML::Node layers;
  std::vector<std::pair<std::string, YAML::Node>> args;
  std::string where;
};

constexpr std::size_t kMaxBlockDepth = 16;
constexpr std::int64_t kMaxRepeat = 1000;
const std::vector<std::string> kUseBuilderKeys{"type", "name", "inputs", "repeat"};

std::map<std::string, BlockDef> read_blocks(const ModelFile::Impl& mf, const Registry& registry) {
  const Source& src = *mf.source;
  std::map<std::string, BlockDef> blocks;
  const YAML::Node section = detail::lookup(mf.root, "blocks");
  if (!section.IsDefined() || section.IsNull()) return blocks;
  if (!section.IsMap()) {
    detail::fail_at(src, "blocks", section,
                    fmt::format("expected a mapping of block names to {{args: ..., layers: [...]}}, found {}",
                                detail::describe(section)));
  }
  for (const auto& kv : section) {
    const std::string name = kv.first.as<std::string>("");
    const std::string path = "blocks." + name;
    if (!valid_layer_name(name) || name.find('-') != std::string::npos) {
      detail::fail_at(src, "blocks", kv.first,
                      fmt::format("expected a block name of letters, digits and '_' (not only digits), found {}",
                                  detail::describe(kv.first)));
    }
    for (Kind kind : {Kind::Layer, Kind::Merge}) {
      if (const TypeInfo* info = registry.find(kind, name)) {
        detail::fail_at(src, "blocks", kv.first,
                        fmt::format("block '{}' would hide the {} type '{}' of plugin {}; give the block another name",
                                    name, kind == Kind::Layer ? "layer" : "merge", name, info->provider.plugin));
      }
    }
    const YAML::Node def = kv.second;
    if (!def.IsMap()) {
      detail::fail_at(src, path, def,
                      fmt::format("expected a mapping {{args: {{...}}, layers: [...]}}, found {}", detail::describe(def)));
    }
    BlockDef b;
    b.where = detail::location(src, path, kv.first);
    for (const auto& e : def) {
      const std::string key = e.first.as<std::string>("");
      if (key != "args" && key != "layers") {
        detail::fail_at(src, path, e.first,
                        fmt::format("unknown key '{}' for a block; its keys are: args, layers", key));
      }
    }
    b.layers = detail::lookup(def, "layers");
    if (!b.layers.IsDefined() || !b.layers.IsSequence() || b.layers.size() == 0) {
      detail::fail_at(src, path + ".layers", b.layers.IsDefined() ? b.layers : def,
                      fmt::format("a block needs a non-empty list of layers, found {}", detail::describe(b.layers)));
    }
    if (const YAML::Node args = detail::lookup(def, "args"); args.IsDefined() && !args.IsNull()) {
      if (!args.IsMap()) {
        detail::fail_at(src, path + ".args", args,
                        fmt::format("expected a mapping of argument names to defaults (`~` for none), found {}",
                                    detail::describe(args)));
      }
      for (const auto& a : args) {
        const std::string arg = a.first.as<std::string>("");
        if (!valid_layer_name(arg) || arg.find('-') != std::string::npos ||
            std::find(kUseBuilderKeys.begin(), kUseBuilderKeys.end(), arg) != kUseBuilderKeys.end()) {
          detail::fail_at(src, path + ".args", a.first,
                          fmt::format("expected an argument name of letters, digits and '_' (not {}), found {}",
                                      detail::join(kUseBuilderKeys), detail::describe(a.first)));
        }
        b.args.emplace_back(arg, a.second);
      }
    }
    blocks.emplace(name, std::move(b));
  }
  return blocks;
}

// Replaces `${ARG}` in every scalar under `node` (a block's body, parsed afresh for this use, so
// it is changed in place and its nodes keep their line marks): a scalar that is exactly `${ARG}`
// becomes the use's value with its type (`filters: ${filters}` stays a number, and a message
// about it points at the use); inside a longer string the value's text is spliced in.
// The --set flag that gave the value at `path` (or a mapping above it), or "".
std::string override_flag(const Source& src, std::string path) {
  for (;;) {
    if (auto it = src.overrides.find(path); it != src.overrides.end()) return it->second;
    const auto dot = path.rfind('.');
    if (dot == std::string::npos) return "";
    path.resize(dot);
  }
}

// `flags`: the --set flag of each argument a flag gave; where such an argument lands is added to
// `given` (definition path -> flag), for use_source.
void substitute(const Source& src, YAML::Node node, const std::string& path, const std::string& block,
                const std::map<std::string, YAML::Node>& args, const std::map<std::string, std::string>& flags,
                std::map<std::string, std::string>& given) {
  auto replace = [&](YAML::Node value, const std::string& at) {
    if (value.IsMap() || value.IsSequence()) {
      substitute(src, value, at, block, args, flags, given);
      return;
    }
    if (!value.IsScalar() || value.Scalar().find("${") == std::string::npos) return;
    const std::string text = value.Scalar();
    auto arg_of = [&](std::size_t open) -> std::pair<YAML::Node, std::size_t> {
      const std::size_t close = text.find('}', open);
      const std::string name = close == std::string::npos ? "" : text.substr(open + 2, close - open - 2);
      auto it = args.find(name);
      if (it == args.end()) {
        std::vector<std::string> known;
        for (const auto& [k, v] : args) known.push_back(k);
        detail::fail_at(src, at, value,
                        fmt::format("'{}' names no argument of block '{}'{}; its arguments: {}",
                                    detail::printable(text, 40), block, detail::did_you_mean(name, known),
                                    known.empty() ? "none" : detail::join(known)));
      }
      if (auto f = flags.find(name); f != flags.end()) given.emplace(at, f->second);
      return {it->second, close};
    };
    if (text.rfind("${", 0) == 0 && text.find('}') == text.size() - 1) {
      value = arg_of(0).first;  // the node now shares the use's value (and its mark)
      return;
    }
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
      const std::size_t open = text.find("${", i);
      if (open == std::string::npos) {
        out += text.substr(i);
        break;
      }
      out += text.substr(i, open - i);
      const auto [arg, close] = arg_of(open);
      if (!arg.IsScalar()) {
        detail::fail_at(src, at, value,
                        fmt::format("'{}' splices an argument into text, which needs a single value, found {}",
                                    detail::printable(text, 40), detail::describe(arg)));
      }
      out += arg.Scalar();
      i = close + 1;
    }
    value = out;  // the scalar's text; its mark stays
  };
  if (node.IsMap()) {
    for (auto kv : node) replace(kv.second, detail::child_path(path, kv.first.as<std::string>("")));
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) replace(node[i], detail::child_path(path, std::to_string(i)));
  }
}

// The --set flags that changed a block's definition (`blocks.basic.layers.0.kernel`), keyed as
// well by the paths its layers have in this use (`layers.stage2.conv1.kernel`), so a message
// about such a value names the flag.
std::shared_ptr<const Source> use_source(const std::shared_ptr<const Source>& outer, const std::string& type,
                                         const std::string& scoped, const YAML::Node& body,
                                         const std::map<std::string, std::string>& given) {
  auto src = std::make_shared<Source>(*outer);
  const std::string def = "blocks." + type;
  std::map<std::string, std::string> all(outer->overrides.begin(), outer->overrides.end());
  all.insert(given.begin(), given.end());
  for (const auto& [p, flag] : all) {
    if (p == def || p == def + ".layers") {
      src->overrides.emplace("layers." + scoped, flag);
      continue;
    }
    if (!p.starts_with(def + ".layers.")) continue;
    const std::string rest = p.substr(def.size() + 8);  // "0.kernel"
    const std::size_t dot = rest.find('.');
    const std::string index = rest.substr(0, dot);
    std::size_t k = 0;
    if (auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), k);
        ec != std::errc() || end != index.data() + index.size() || k >= body.size()) {
      continue;
    }
    const YAML::Node n = detail::lookup(body[k], "name");
    const std::string inner = n.IsDefined() && n.IsScalar() ? n.Scalar() : index;
    src->overrides.emplace("layers." + scoped + "." + inner + (dot == std::string::npos ? "" : rest.substr(dot)), flag);
  }
  return src;
}

// read_layers' state over the expanded list: blocks are expanded as they are met, so every
// layer, inside a block or not, is read by the same code, in the order it will run.
struct LayerWalk {
  const ModelFile::Impl& mf;
  const Registry& registry;
  ModelSpec& m;
  std::map<std::string, BlockDef> blocks;
  std::vector<bool> read;          // per layer: some later layer takes its output
  std::vector<YAML::Node> nodes;   // per layer, for the last check's message
  std::vector<std::shared_ptr<const Source>> sources;  // and where it came from
  std::vector<std::string> paths;  // per layer, its scoped path (layers.stage2.conv1)
  std::vector<std::string> chain;  // the blocks being expanded, outermost first
  std::size_t uses = 0;            // block uses expanded so far
};

// Each use parses the file again (fresh_root): the uses times the file's size is bounded, so a
// large file with many uses is refused instead of parsed for minutes.
constexpr std::size_t kMaxExpansionBytes = std::size_t{64} << 20;

// Refuses `more` further uses when they would take the parsing past kMaxExpansionBytes.
void check_expansion(const LayerWalk& w, std::size_t more, const Source& src, const std::string& path,
                     const YAML::Node& use) {
  const std::size_t bytes = std::max<std::size_t>(w.mf.text.size(), 1);
  const std::size_t uses = w.uses + more;
  if (uses * bytes <= kMaxExpansionBytes) return;
  detail::fail_at(src, path, use,
                  fmt::format("{} block uses in a file of {} bytes: expanding them would read {} MB; at most {} MB "
                              "(README, \"Limits\")",
                              uses, w.mf.text.size(), (uses * bytes) >> 20, kMaxExpansionBytes >> 20));
}

// One list of layers: the model's, or a block's body in a use. `prefix` scopes its names
// ("" at the top, "stage2." in a use named stage2), `input` is what `input` names in it.
struct LayerScope {
  std::shared_ptr<const Source> source;  // where its nodes came from, for messages
  std::string note;                      // what messages about its layers add: the use
  std::string prefix;
  int input = Network::kInput;
  std::map<std::string, std::size_t> index_of;  // names read so far -> layer index (a use: its last)
};

int walk_layers(LayerWalk& w, const YAML::Node& layers, LayerScope& scope);

// Reads what `inputs:` names in `scope`, or gives the layer before (the scope's input first).
std::vector<int> read_inputs(LayerWalk& w, const YAML::Node& spec_node, const std::string& path,
                             const LayerScope& scope, const std::vector<std::string>& all_names,
                             const std::string& name, bool merge, bool first, std::vector<std::string>& refs,
                             bool& written) {
  const Source& src = *scope.source;
  std::vector<int> inputs;
  YAML::Node in = spec_node.IsMap() ? detail::lookup(spec_node, "inputs") : YAML::Node();
  written = in.IsDefined();
  const int previous = first ? scope.input : static_cast<int>(w.m.layers.size()) - 1;
  if (!in.IsDefined()) {
    if (merge) {
      detail::fail_at(src, path, spec_node,
                      fmt::format("'{}' merges several layers: list them in `inputs: [name, ...]` (name them with "
                                  "`name:`; '{}' is the model's input)",
                                  type_named(spec_node), kInputName));
    }
    return {previous};
  }
  YAML::Node list = in;
  if (in.IsScalar()) {
    list.reset(YAML::Node(YAML::NodeType::Sequence));
    list.push_back(in.Scalar());
  }
  if (!list.IsSequence() || list.size() == 0) {
    detail::fail_at(src, path + ".inputs", in,
                    fmt::format("expected a list of layer names (or '{}', the model's input), found {}", kInputName,
                                detail::describe(in)));
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
      inputs.push_back(scope.input);
    } else if (auto it = scope.index_of.find(ref); it != scope.index_of.end()) {
      inputs.push_back(static_cast<int>(it->second));
    } else if (ref == name || std::find(all_names.begin(), all_names.end(), ref) != all_names.end()) {
      detail::fail_at(src, where, in.IsScalar() ? in : item,
                      fmt::format("'{}' is {}; a layer's inputs must come before it in `layers:` (the "
                                  "model runs in file order, so it cannot loop back)",
                                  ref, ref == name ? "this layer itself" : "defined further down"));
    } else {
      std::vector<std::string> known{kInputName};
      for (const auto& [k2, v] : scope.index_of) known.push_back(k2);
      detail::fail_at(src, where, in.IsScalar() ? in : item,
                      fmt::format("no layer named '{}' before this one{}; known: {}", ref,
                                  detail::did_you_mean(ref, known), detail::join(known)));
    }
  }
  return inputs;
}

// A use of a block: its arguments checked and substituted into a copy of the body, which is
// then read as a list of its own scope. Returns the index of its last layer, its output.
int expand_use(LayerWalk& w, const std::shared_ptr<const Source>& scope_source, const YAML::Node& use,
               const std::string& type, const std::string& path, const std::string& scoped, int input,
               std::size_t depth) {
  const Source& src = *scope_source;
  const BlockDef& def = w.blocks.at(type);
  const std::string where = detail::location(src, path, use);
  if (std::find(w.chain.begin(), w.chain.end(), type) != w.chain.end()) {
    std::string cycle;
    for (const auto& b : w.chain) cycle += b + " -> ";
    detail::fail_at(src, path, use, fmt::format("block '{}' uses itself ({}{}); a block cannot be recursive", type,
                                                cycle, type));
  }
  if (depth >= kMaxBlockDepth) {
    detail::fail_at(src, path, use, fmt::format("blocks nested {} deep; at most {}", depth + 1, kMaxBlockDepth));
  }
  // The use's keys: the block's arguments, and `INNER: {key: value}` for a layer of the body
  // (what `--set layers.stage2.conv1.kernel=5` writes).
  std::vector<std::string> inner_names;
  for (const auto& l : def.layers) {
    if (YAML::Node n = l.IsMap() ? detail::lookup(l, "name") : YAML::Node(); n.IsDefined() && n.IsScalar()) {
      inner_names.push_back(n.Scalar());
    }
  }
  std::map<std::string, YAML::Node> args;
  std::vector<std::pair<std::string, YAML::Node>> inner_overrides;
  std::vector<std::string> known;
  for (const auto& [a, v] : def.args) known.push_back(a);
  if (use.IsMap()) {
    for (const auto& kv : use) {
      const std::string key = kv.first.as<std::string>("");
      if (std::find(kUseBuilderKeys.begin(), kUseBuilderKeys.end(), key) != kUseBuilderKeys.end()) continue;
      if (std::find(known.begin(), known.end(), key) != known.end()) {
        args[key] = kv.second;
      } else if (std::find(inner_names.begin(), inner_names.end(), key) != inner_names.end() && kv.second.IsMap()) {
        inner_overrides.emplace_back(key, kv.second);
      } else {
        detail::fail_at(src, path, kv.first,
                        fmt::format("unknown argument '{}' for block '{}' (defined at {}){}; its arguments: {}", key,
                                    type, def.where, detail::did_you_mean(key, known),
                                    known.empty() ? "none" : detail::join(known)));
      }
    }
  }
  for (const auto& [a, v] : def.args) {
    if (args.count(a)) continue;
    if (!v.IsDefined() || v.IsNull()) {
      detail::fail_at(src, path, use,
                      fmt::format("block '{}' (defined at {}) needs argument '{}'", type, def.where, a));
    }
    args[a] = v;
  }
  check_expansion(w, 1, src, path, use);
  ++w.uses;
  YAML::Node body = detail::lookup(detail::lookup(detail::lookup(fresh_root(w.mf), "blocks"), type), "layers");
  // What --set flags gave (an argument, a key of an inner layer): messages about those values
  // name the flag wherever in the body they land.
  std::map<std::string, std::string> flags, given;
  for (const auto& [a, v] : args) {
    if (std::string f = override_flag(src, path + "." + a); !f.empty()) flags.emplace(a, f);
  }
  const std::string def_path = "blocks." + type + ".layers";
  substitute(src, body, def_path, type, args, flags, given);
  for (const auto& [inner, keys] : inner_overrides) {
    for (std::size_t k = 0; k < body.size(); ++k) {
      YAML::Node l = body[k];
      if (YAML::Node n = l.IsMap() ? detail::lookup(l, "name") : YAML::Node(); n.IsDefined() && n.Scalar() == inner) {
        for (const auto& kv : keys) l[kv.first.as<std::string>("")] = kv.second;
        const std::string below = path + "." + inner;
        for (const auto& [p, f] : src.overrides) {
          if (p == below || p.starts_with(below + ".")) given.emplace(fmt::format("{}.{}{}", def_path, k, p.substr(below.size())), f);
        }
      }
    }
  }
  w.m.block_uses.emplace_back(scoped, type);
  LayerScope inner;
  inner.source = use_source(scope_source, type, scoped, body, given);
  inner.prefix = scoped + ".";
  inner.note = fmt::format(" (in block '{}', used at {} as layers.{})", type, where, scoped);
  inner.input = input;
  w.chain.push_back(type);
  int last = 0;
  try {
    last = walk_layers(w, body, inner);
  } catch (const InputError& e) {
    const std::string what = e.what();
    // The fault is inside the definition: say which use led there (once, at the innermost).
    if (what.find(" (in block '") != std::string::npos) throw;
    throw InputError(what + inner.note);
  }
  w.chain.pop_back();
  return last;
}

// One layer (not a block): read, bound and appended. Returns its index.
int add_layer(LayerWalk& w, const YAML::Node& spec_node, const std::string& path, const std::string& scoped_name,
              std::vector<int> inputs, std::vector<std::string> refs, bool inputs_written, const LayerScope& scope) {
  const Source& src = *scope.source;
  LayerSpec layer;
  const std::size_t i = w.m.layers.size();
  if (i >= kMaxLayers) {
    detail::fail_at(src, path, spec_node,
                    fmt::format("more than {} layers once blocks are expanded; a model has at most {} (README, "
                                "\"Limits\")",
                                kMaxLayers, kMaxLayers));
  }
  layer.path = "layers." + std::to_string(i);
  layer.where = detail::location(src, path, spec_node);
  layer.name = scoped_name;
  layer.merge = w.registry.find(Kind::Merge, type_named(spec_node)) != nullptr;
  layer.inputs = std::move(inputs);
  layer.refs = std::move(refs);
  layer.inputs_written = inputs_written;
  if (!scope.prefix.empty()) {
    layer.block = scope.prefix.substr(0, scope.prefix.size() - 1);
    layer.block_note = scope.note;
  }
  if (!layer.merge && layer.inputs.size() != 1) {
    const auto merges = w.registry.names(Kind::Merge);
    detail::fail_at(src, path + ".inputs", detail::lookup(spec_node, "inputs"),
                    fmt::format("layer type '{}' takes one input, `inputs` names {}; merge several with a "
                                "merge layer ({})",
                                type_named(spec_node), layer.inputs.size(),
                                merges.empty() ? "none loaded" : detail::join(merges)));
  }
  for (int j : layer.inputs) {
    if (j != Network::kInput) w.read[static_cast<std::size_t>(j)] = true;
  }
  layer.component = bind_component(w.registry, layer.merge ? Kind::Merge : Kind::Layer,
                                   detail::unbound(spec_node, scope.source, path, &w.registry), w.m.types,
                                   kLayerBuilderKeys);
  if (YAML::Node r = spec_node.IsMap() ? detail::lookup(spec_node, "regularizer") : YAML::Node(); r.IsDefined()) {
    layer.regularizer = bind_component(w.registry, Kind::Regularizer,
                                       detail::unbound(r, scope.source, path + ".regularizer", &w.registry), w.m.types);
  }
  w.m.layers.push_back(std::move(layer));
  w.read.push_back(false);
  w.nodes.push_back(spec_node);
  w.sources.push_back(scope.source);
  w.paths.push_back(path);
  return static_cast<int>(i);
}

// `layers:` (or a block's body): each entry a layer, a merge or a block, with an optional
// `name`, `inputs` and `repeat`. Inputs name earlier layers of the same list (or `input`), so
// the graph is acyclic by construction and runs in file order. Returns the last layer's index.
int walk_layers(LayerWalk& w, const YAML::Node& layers, LayerScope& scope) {
  const Source& src = *scope.source;
  std::vector<std::string> all_names;  // every name in the list, for forward references
  for (const auto& spec_node : layers) {
    if (!spec_node.IsMap()) continue;
    if (YAML::Node n = detail::lookup(spec_node, "name"); n.IsDefined() && n.IsScalar()) {
      all_names.push_back(n.Scalar());
    }
  }
  const std::string path_prefix = "layers." + scope.prefix;
  int last = scope.input;
  for (std::size_t k = 0; k < layers.size(); ++k) {
    const YAML::Node spec_node = layers[k];
    // `- relu`: components take the bare-name form, but a layer also has name and inputs keys,
    // so its entry stays a mapping; say what to write, where it was written.
    const std::string index_path = path_prefix + std::to_string(k);
    if (spec_node.IsScalar()) {
      detail::fail_at(src, index_path, spec_node,
                      fmt::format("a layer is written as a mapping: `- {{type: {}}}`, not `- {}`",
                                  detail::printable(spec_node.Scalar(), 40), detail::printable(spec_node.Scalar(), 40)));
    }
    std::string name;
    if (YAML::Node n = spec_node.IsMap() ? detail::lookup(spec_node, "name") : YAML::Node(); n.IsDefined()) {
      if (!n.IsScalar() || !valid_layer_name(n.Scalar())) {
        detail::fail_at(src, index_path + ".name", n,
                        fmt::format("expected a layer name of letters, digits, '_' and '-' (not only digits, not "
                                    "'{}', at most 64 characters), found {}",
                                    kInputName, detail::describe(n)));
      }
      name = n.Scalar();
      if (auto it = scope.index_of.find(name); it != scope.index_of.end()) {
        detail::fail_at(src, index_path + ".name", n,
                        fmt::format("the name '{}' is already taken by {}; names must be unique", name,
                                    w.paths[it->second]));
      }
    }
    // The path messages and --set use: by name when it has one.
    const std::string path = name.empty() || scope.prefix.empty() ? index_path : path_prefix + name;
    std::int64_t repeat = 1;
    if (YAML::Node r = spec_node.IsMap() ? detail::lookup(spec_node, "repeat") : YAML::Node(); r.IsDefined()) {
      try {
        repeat = r.IsScalar() ? r.as<std::int64_t>() : 0;
      } catch (const YAML::Exception&) {
        repeat = 0;
      }
      if (repeat < 1 || repeat > kMaxRepeat) {
        detail::fail_at(src, path + ".repeat", r,
                        fmt::format("expected an integer in [1, {}], found {}", kMaxRepeat, detail::describe(r)));
      }
    }
    const std::string type = type_named(spec_node);
    const bool block = w.blocks.count(type) > 0;
    if (block) check_expansion(w, static_cast<std::size_t>(repeat), src, path, spec_node);
    for (std::int64_t r = 0; r < repeat; ++r) {
      // Repeated: each copy its own scope (stage1.0, stage1.1); the first takes `inputs`, the
      // others the copy before.
      std::string local = name.empty() ? (block ? std::to_string(k) : "") : name;
      if (repeat > 1 && !local.empty()) local = fmt::format("{}.{}", local, r);
      const std::string scoped = local.empty() ? "" : scope.prefix + local;
      const std::string copy_path = repeat > 1 ? fmt::format("{}.{}", path, r) : path;
      std::vector<std::string> refs;
      bool written = false;
      std::vector<int> inputs;
      if (r == 0) {
        inputs = read_inputs(w, spec_node, path, scope, all_names, name,
                             !block && w.registry.find(Kind::Merge, type) != nullptr, k == 0, refs, written);
      } else {
        inputs = {last};
      }
      if (block) {
        if (inputs.size() != 1) {
          detail::fail_at(src, path + ".inputs", detail::lookup(spec_node, "inputs"),
                          fmt::format("block '{}' takes one input, `inputs` names {}", type, inputs.size()));
        }
        last = expand_use(w, scope.source, spec_node, type, copy_path, scoped.empty() ? scope.prefix + std::to_string(k) : scoped,
                          inputs[0], w.chain.size());
      } else {
        last = add_layer(w, spec_node, copy_path, scoped, std::move(inputs), std::move(refs), written && r == 0, scope);
      }
      if (repeat > 1 && !name.empty()) scope.index_of[local] = static_cast<std::size_t>(last);
    }
    if (!name.empty()) scope.index_of.emplace(name, static_cast<std::size_t>(last));
  }
  return last;
}

void read_layers(const ModelFile::Impl& mf, const Registry& registry, const YAML::Node& layers, ModelSpec& m) {
  LayerWalk w{mf, registry, m, read_blocks(mf, registry), {}, {}, {}, {}, {}, 0};
  m.has_blocks = !w.blocks.empty();
  if (m.has_blocks) {
    m.blocks_as_written = detail::lookup(mf.root, "blocks");
    m.layers_as_written = layers;
  }
  LayerScope top;
  top.source = mf.source;
  walk_layers(w, layers, top);
  // Every output but the last must feed a later layer: a branch that leads nowhere is a mistake.
  for (std::size_t k = 0; k + 1 < m.layers.size(); ++k) {
    if (!w.read[k]) {
      detail::fail_at(*w.sources[k], w.paths[k], w.nodes[k],
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

// `train.params:` a list of rules over tensor names (name_pattern.hpp); what they match is
// known only once the network is built (build_network), so here only their form is checked.
void read_param_rules(const ModelFile::Impl& mf, const Registry& registry, const YAML::Node& list, ModelSpec& m) {
  const Source& src = *mf.source;
  if (!list.IsSequence()) {
    detail::fail_at(src, "train.params", list,
                    fmt::format("expected a list of rules (`params: [{{match: \"layers.0.*\", trainable: false}}]`), "
                                "found {}",
                                detail::describe(list)));
  }
  std::size_t k = 0;
  for (const auto& item : list) {
    const std::string path = "train.params." + std::to_string(k++);
    const Config c =
        detail::bind(detail::unbound(item, mf.source, path, &registry), param_rule_schema(), "", {}, "a params rule");
    ParamRule r;
    r.match = c.get<std::string>("match");
    r.where = c.where("match");
    if (const std::string problem = detail::pattern_problem(r.match); !problem.empty()) {
      detail::fail_at(src, path + ".match", detail::lookup(item, "match"),
                      fmt::format("expected a pattern over tensor names, found {}", problem));
    }
    if (c.has("trainable")) r.trainable = c.get<bool>("trainable");
    if (c.has("lr_mult")) r.lr_mult = c.get<float>("lr_mult");
    if (c.has("decay_mult")) r.decay_mult = c.get<float>("decay_mult");
    if (!r.trainable && !r.lr_mult && !r.decay_mult) {
      detail::fail_at(src, path, item,
                      "the rule sets nothing: give it `trainable`, `lr_mult` or `decay_mult` (or remove it)");
    }
    m.train.params.push_back(std::move(r));
    m.param_rules.push_back(c);
  }
}

// `init_from:` a run folder, or {run, weights, strict, tensors}. Whether the run exists and
// what it holds is checked when the weights are loaded (init_from.cpp): a run's own model.yaml
// keeps the section after the run it names is gone, and eval or predict never read it.
void read_init_from(const ModelFile::Impl& mf, const Registry& registry, const YAML::Node& node, ModelSpec& m) {
  const Source& src = *mf.source;
  InitFrom init;
  init.where = detail::location(src, "init_from", node);
  if (node.IsScalar()) {
    if (node.Scalar().empty()) detail::fail_at(src, "init_from", node, "expected a run folder, found an empty string");
    init.run = fs::absolute(detail::resolve_path(src, node.Scalar())).lexically_normal();
    m.init_from = std::move(init);
    return;
  }
  if (!node.IsMap()) {
    detail::fail_at(src, "init_from", node,
                    fmt::format("expected a run folder or a mapping {{run: DIR, weights: last | best, tensors: ..., "
                                "strict: false}}, found {}",
                                detail::describe(node)));
  }
  const Config c = detail::bind(detail::unbound(node, mf.source, "init_from", &registry), init_from_schema(), "",
                                kInitFromBuilderKeys, "init_from");
  init.run = fs::absolute(c.file("run")).lexically_normal();
  init.best = c.get<std::string>("weights") == "best";
  init.strict = c.get<bool>("strict");
  const YAML::Node tensors = detail::lookup(node, "tensors");
  if (!tensors.IsDefined() || tensors.IsNull()) {
    m.init_from = std::move(init);
    return;
  }
  init.tensors_written = true;
  auto pattern = [&](const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar()) {
      detail::fail_at(src, path, n, fmt::format("expected a pattern over tensor names, found {}", detail::describe(n)));
    }
    if (const std::string problem = detail::pattern_problem(n.Scalar()); !problem.empty()) {
      detail::fail_at(src, path, n, fmt::format("expected a pattern over tensor names, found {}", problem));
    }
    return n.Scalar();
  };
  if (tensors.IsSequence()) {
    for (std::size_t k = 0; k < tensors.size(); ++k) {
      const std::string p = pattern(tensors[k], fmt::format("init_from.tensors.{}", k));
      init.tensors.emplace_back(p, p);
    }
  } else if (tensors.IsMap()) {
    for (const auto& kv : tensors) {
      const std::string from = pattern(kv.first, "init_from.tensors");
      const std::string path = "init_from.tensors." + from;
      const std::string to = pattern(kv.second, path);
      if (detail::wildcards(to) > detail::wildcards(from)) {
        detail::fail_at(src, path, kv.second,
                        fmt::format("'{}' has {} `*` but '{}' only {}: each `*` of the name in this model stands for "
                                    "what a `*` of the run's name matched",
                                    to, detail::wildcards(to), from, detail::wildcards(from)));
      }
      init.tensors.emplace_back(from, to);
    }
  } else {
    detail::fail_at(src, "init_from.tensors", tensors,
                    fmt::format("expected a list of patterns (`[\"layers.0.*\"]`) or a mapping from the run's names to "
                                "this model's (`{{\"layers.stem*\": \"layers.stem*\"}}`), found {}",
                                detail::describe(tensors)));
  }
  if (init.tensors.empty()) {
    detail::fail_at(src, "init_from.tensors", tensors, "expected at least one pattern (or leave `tensors` out: all)");
  }
  m.init_from = std::move(init);
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
  if (YAML::Node n = detail::lookup(mf.root, "init_from"); n.IsDefined() && !n.IsNull()) {
    read_init_from(mf, registry, n, m);
  }

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
  if (YAML::Node list = detail::lookup(detail::impl_of(train_spec).node, "params"); list.IsDefined() && !list.IsNull()) {
    read_param_rules(mf, registry, list, m);
  }
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
  if (!m.augment.empty()) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& c : m.augment) list.push_back(resolved(c));
    data["augment"] = list;
  }
  out["data"] = data;
  if (m.init_from) {
    YAML::Node init(YAML::NodeType::Map);
    init["run"] = m.init_from->run.string();
    init["weights"] = m.init_from->best ? "best" : "last";
    init["strict"] = m.init_from->strict;
    if (m.init_from->tensors_written) {
      YAML::Node tensors(YAML::NodeType::Map);
      for (const auto& [from, to] : m.init_from->tensors) tensors[from] = to;
      init["tensors"] = tensors;
    }
    out["init_from"] = init;
  }
  // With blocks, `layers:` is kept as written (the uses) beside the blocks, and what they
  // expanded to follows as `layers_expanded`, which is read by people, not by lamina.
  if (m.has_blocks) {
    out["blocks"] = m.blocks_as_written;
    out["layers"] = m.layers_as_written;
  }
  YAML::Node expanded(YAML::NodeType::Sequence);
  for (const LayerSpec& layer : m.layers) {
    YAML::Node l = resolved(layer.component);
    if (!layer.name.empty()) l["name"] = layer.name;
    if (m.has_blocks) {
      YAML::Node names(YAML::NodeType::Sequence);
      for (int j : layer.inputs) {
        const auto u = static_cast<std::size_t>(j);
        names.push_back(j == Network::kInput ? std::string(kInputName)
                                             : (m.layers[u].name.empty() ? m.layers[u].path : m.layers[u].name));
      }
      l["inputs"] = names;
    } else if (layer.inputs_written) {
      YAML::Node names(YAML::NodeType::Sequence);
      for (const auto& ref : layer.refs) names.push_back(ref);
      l["inputs"] = names;
    }
    if (layer.regularizer) l["regularizer"] = resolved(*layer.regularizer);
    expanded.push_back(l);
  }
  out[m.has_blocks ? "layers_expanded" : "layers"] = expanded;
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
  if (!m.param_rules.empty()) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const Config& rule : m.param_rules) list.push_back(detail::resolved(rule));  // numbers as written
    out["train"]["params"] = list;
  }
  YAML::Emitter emitter;
  emitter << out;
  return std::string(emitter.c_str()) + "\n";
}

}  // namespace lamina
