// The first of the two steps that read a model file: YAML -> a typed spec. read_model_spec()
// checks the file's structure (sections, the name, layer names and inputs, the graph's rules)
// and binds every component's keys against its type's schema, in file order, so the first
// mistake in the file is the one reported; nothing is constructed. build_model(spec) then makes
// the components and the network from it (model.hpp), and resolved_yaml(spec) writes the model
// with every default filled in, the run folder's model.yaml. What later features add to the
// model language (blocks, weights to start from) is expanded here, before anything is built.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config_impl.hpp"
#include "lamina/config.hpp"
#include "runtime/model.hpp"

namespace lamina {

namespace detail {
// A spec is filled in file order, member by member; until then a Config holds nothing.
inline Config unset_config() { return ConfigAccess::make(std::make_shared<const Config::Impl>()); }
}  // namespace detail

// A component as the file names it: its keys validated, defaults filled.
struct ComponentSpec {
  Config bound = detail::unset_config();
  std::vector<std::string> builder_keys;  // keys the builder reads itself (a layer's `inputs`)
};

struct LayerSpec {
  std::string path;   // "layers.3"
  std::string where;  // "model.yaml:7:5", for messages
  std::string name;   // its `name:`, or ""; in a block, scoped by the use ("stage2.conv1")
  std::string block;       // the block use it comes from ("stage2", "stage1.0"), "" at the top
  std::string block_note;  // " (in block 'basic', used at model.yaml:20:5 as layers.stage2)", for messages
  bool merge = false;
  std::vector<int> inputs;        // layer indices in file order, Network::kInput for the input
  bool inputs_written = false;    // whether the file has `inputs:` (else: the previous layer)
  std::vector<std::string> refs;  // the inputs as written
  ComponentSpec component;
  std::optional<ComponentSpec> regularizer;
};

struct ModelSpec {
  std::string name;
  ComponentSpec source;  // the data source's own keys
  Config data = detail::unset_config();  // the shared data keys (data_schema)
  DataSpec data_spec;    // what they say; no reader yet
  std::vector<ComponentSpec> augment;  // data.augment, in order
  std::vector<LayerSpec> layers;  // blocks expanded: the layers as they run
  std::vector<std::pair<std::string, std::string>> block_uses;  // each use's scope and block ("stage2", "stage")
  bool has_blocks = false;        // the file has `blocks:` (model.yaml then keeps them as written)
  YAML::Node blocks_as_written, layers_as_written;  // with blocks: the sections, for resolved_yaml
  ComponentSpec loss;
  std::optional<ComponentSpec> regularizer;
  ComponentSpec optimizer;
  std::optional<ComponentSpec> schedule;
  Config train_keys = detail::unset_config();  // the train section (train_schema)
  TrainSpec train;
  std::optional<InitFrom> init_from;
  std::vector<Config> param_rules;  // train.params as bound, for resolved_yaml
  std::vector<ComponentSpec> callbacks;
  bool callbacks_written = false;  // `callbacks:` is in the file (perhaps empty)
  // `metrics:` as written, each with its column name (its `name:`, else its type). Without the
  // section: every registered metric whose keys all have defaults, of which build_network keeps
  // those that say they are a default for the data's targets (lamina/metric.hpp).
  std::vector<ComponentSpec> metrics;
  std::vector<std::string> metric_names;
  bool metrics_written = false;
  std::vector<TypeUse> types;  // in file order, deduplicated: the checkpoint's manifest
};

// `run_copy`: as for build_model().
ModelSpec read_model_spec(const ModelFile& file, const Registry& registry, bool run_copy = false);
// The model with every default written out; Key::path values absolute, so that the copy does
// not depend on where the original file was.
std::string resolved_yaml(const ModelSpec& spec);

}  // namespace lamina
