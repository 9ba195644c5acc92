// Model files. A model is a YAML file (see the README's YAML reference):
//
//   data: {source: fashion-mnist, validation_split: 0.1}
//   layers:
//     - {type: affine, units: 100, init: he}
//     - {type: relu}
//     - {type: affine, units: 10}
//   loss: {type: softmax_cross_entropy}
//   optimizer: {type: sgd, lr: 0.01}
//   train: {epochs: 10, batch_size: 100, seed: 42}
//
// ModelFile reads the YAML and applies --set overrides. The model is then read in two steps:
// read_model_spec() (model_spec.hpp) validates every key of every section against the
// registered types and gives a typed spec, build_model(spec) creates the components from it;
// build_network() sizes the layers from the data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/dataset.hpp"
#include "lamina/loss.hpp"
#include "lamina/metric.hpp"
#include "runtime/network.hpp"
#include "lamina/optimizer.hpp"
#include "runtime/registry.hpp"
#include "lamina/regularizer.hpp"
#include "lamina/schedule.hpp"
#include "lamina/augmentation.hpp"
#include "lamina/callback.hpp"

namespace lamina {

// train.params: one rule of the list, applied in order to the tensors its pattern matches (the
// last rule that matches a tensor decides each flag it sets; lamina/param.hpp says what they do).
struct ParamRule {
  std::string match;  // a name pattern (name_pattern.hpp)
  std::optional<bool> trainable;
  std::optional<float> lr_mult, decay_mult;
  std::string where;  // "model.yaml:12:9", for messages
};

// init_from: the trained run a model starts from (init_from.hpp). `tensors` pairs a pattern over
// the run's tensor names with the name in this model (`*` captures carried over); without it,
// every tensor goes to the tensor of the same name.
struct InitFrom {
  std::filesystem::path run;
  bool best = false;  // model-best.safetensors instead of the last checkpoint
  std::vector<std::pair<std::string, std::string>> tensors;
  bool tensors_written = false;
  bool strict = false;  // a tensor left at its initialization, a shape or a pattern that fits nothing: an error
  std::string where;
};

struct TrainSpec {
  std::int64_t epochs = 10;
  std::int64_t batch_size = 100;
  std::uint64_t seed = 42;
  bool shuffle = true;
  std::string train_metrics = "eval";  // eval: a full Eval-mode pass; running: batch averages
  std::int64_t eval_batch_size = 1000;
  bool drop_last = false;      // skip an epoch's last batch when it is smaller than batch_size
  std::int64_t log_every = 0;  // record the batch loss every N steps in iterations.csv (0 = off)
  std::vector<ParamRule> params;  // train.params, in file order
};

class ModelFile {
 public:
  struct Impl;
  // Reads and parses `file`, then applies each override "path.to.key=value" (value in YAML).
  static ModelFile load(const std::filesystem::path& file, std::span<const std::string> overrides = {});
  // Parses YAML text; `name` stands for the file in messages.
  static ModelFile parse(const std::string& text, const std::string& name, std::span<const std::string> overrides = {});

  // The model held at `key` of another YAML document (a search file's inline `model:`);
  // error locations point into that document.
  static ModelFile parse_section(const std::string& text, const std::string& name, const std::string& key);
  // A copy of this model with more overrides applied (the tree is cloned; this one is unchanged).
  ModelFile with(std::span<const std::string> overrides) const;
  // The model as YAML text, overrides included (comments and defaults are not kept).
  std::string text() const;

  const std::filesystem::path& file() const;
  std::string name() const;  // `name:` if given, else the file's stem
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

// A type the model uses and the plugin that provided it: the checkpoint's manifest.
struct TypeUse {
  Kind kind;
  std::string type, plugin, version;
  std::string file;  // the plugin's file, for messages (not in the checkpoint's manifest)
};

// A metric the model reports: its column name ("accuracy", or the file's `name:`) and where it
// came from, for metrics.csv and messages. Metrics are not in the checkpoint's manifest: they
// do not change the weights, and a checkpoint loads without them.
struct ModelMetric {
  std::unique_ptr<Metric> metric;
  std::string name, type, place, where;  // place: "metrics.1" ("metrics" for a default)
  std::string plugin, file;              // its provider, for the plugin guard's messages
  bool higher_is_better = false;         // set by build_network
  std::size_t sums = 0;                  // its number of sums for the network's outputs (build_network)
};

// A key of type Key::metric some component holds ("val_r2"): build_network checks that the
// model reports it.
struct MetricRef {
  std::string value, place, where;  // "val_r2", "train.callbacks.0.metric", "model.yaml:12:30"
};

struct Model {
  std::string name;
  Network network;
  // What the data source learned from the training data (lamina/source_state.hpp): set by
  // `lamina train` from the data it loaded, written into the weights' metadata ("data_state").
  std::string data_state;
  std::vector<std::string> layer_names;  // per layer, its `name:` ("" when it has none), scoped in a block
  std::vector<std::string> layer_blocks;       // per layer, the block use it came from ("stage2"), or ""
  std::vector<std::pair<std::string, std::string>> block_uses;  // every use's scope and block, for graph
  std::unique_ptr<Loss> loss;
  std::string loss_type, loss_where, data_where;  // for messages: "mse", "model.yaml:9:7"
  // What the data's targets are, set by build_network: checkpoints record it, predict and
  // export read it back (lamina/targets.hpp).
  TargetKind target_kind = TargetKind::Class;
  std::int64_t target_width = 1;
  std::unique_ptr<Regularizer> regularizer;                      // may be null
  std::vector<std::unique_ptr<Regularizer>> layer_regularizers;  // per layer, null = model's
  std::string regularizer_type;                                 // their type names, for messages
  std::vector<std::string> layer_regularizer_types;             // (shorter than layers: "" after)
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<Schedule> schedule;  // null: the optimizer's lr throughout
  // data.augment, in order, with their type names and places for messages; build_network sets
  // the kind of targets after each (augment_kinds[i + 1], [0] the data's) and the class count.
  std::vector<std::unique_ptr<Augmentation>> augment;
  std::vector<std::string> augment_types, augment_places;
  std::vector<TargetKind> augment_kinds;
  std::int64_t augment_classes = 0;
  std::vector<std::unique_ptr<Callback>> callbacks;  // train.callbacks, in order
  std::vector<std::string> callback_types;           // their type names, for messages
  // What each split is measured by besides the loss: the file's `metrics:`, or (after
  // build_network) the defaults for the data's targets.
  std::vector<ModelMetric> metrics;
  bool metrics_by_default = false;  // the file lists none: build_network picks the defaults
  std::vector<MetricRef> metric_refs;
  DataSpec data;
  TrainSpec train;
  std::optional<InitFrom> init_from;
  std::string resolved_yaml;   // the model with every default written out
  std::vector<TypeUse> types;  // data source, layers, loss, regularizers, optimizer (deduplicated)
};

// Where a call into the component of `kind` (and `type`; "" for the model's only one) goes, for
// the plugin guard's messages.
namespace detail {
struct PluginSite;
}
detail::PluginSite plugin_site(const Model& model, Kind kind, const std::string& type, std::string place);
// The names of the metrics the model reports, in order (metrics.csv's columns).
std::vector<std::string> metric_names(const Model& model);

struct ModelSpec;
Model build_model(const ModelSpec& spec, const Registry& registry);
// Both steps. `run_copy`: the file is a run folder's model.yaml, written by `lamina train` (perhaps of an
// older version): data keys its source does not declare are ignored instead of refused.
Model build_model(const ModelFile& file, const Registry& registry, bool run_copy = false);

// Sizes the network for the data and checks that the loss takes the data's kind of targets and
// that the network's output fits them (one score per class, one output per regression target);
// keeps the default metrics for the targets and checks that the listed ones take them.
// `check_targets` false: sized for a shape alone (`lamina graph --input-shape`), no targets known.
void build_network(Model& model, const DataSplits& data, bool check_targets = true);
// Before training (not to evaluate, predict or export): every measure a component watches
// (Key::metric) is one the model reports, and a val_ one has a validation split.
void check_watched(const Model& model, const DataSplits& data);

// The YAML reference of the core's own sections, for docs and `lamina plugins info`.
const Schema& data_schema();
const Schema& train_schema();

}  // namespace lamina
