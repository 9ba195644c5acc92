// Data sets. A DataSource plugin reads the files into SampleSets (lamina/data_source.hpp); the
// core checks them, and holds each split as a DataView: a list of rows of one SampleSet, so
// carving a validation set copies nothing. Batches keep the samples' shape: (N, 1, 28, 28).
//
//   lamina::DataSplits d = lamina::load_data(spec, seed);
//   d.train.batch(rows, x, targets);    // x: rows.size() x sample shape, scaled
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lamina/data_source.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

// One batch's targets as DataView::batch gathers them; view() is what a loss sees.
struct BatchTargets {
  TargetKind kind = TargetKind::Class;
  std::int64_t count = 0, width = 1;
  std::vector<std::int32_t> classes;  // Class, ClassPerPosition
  std::vector<float> values;          // MultiLabel, Regression
  Targets view() const { return {kind, count, width, classes, values}; }
  // Class targets as one-hot ClassProbabilities rows of `classes` (what mixup takes); the
  // buffers keep their capacity, so a batch in steady state allocates nothing.
  void to_class_probabilities(std::int64_t classes);
};

class DataView {
 public:
  DataView() = default;
  DataView(std::shared_ptr<const SampleSet> samples, std::vector<std::uint32_t> rows, float scale);

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const SampleSet& samples() const { return *samples_; }
  // Gathers the view's rows at `positions` (indices into this view) into x and targets, each
  // input value multiplied by the view's scale (token ids are not scaled). For token data, `ids`
  // (when given) receives the batch's ids exactly, for Context::input_ids.
  void batch(std::span<const std::uint32_t> positions, Tensor& x, BatchTargets& targets,
             std::vector<std::int32_t>* ids = nullptr) const;

 private:
  void gather_targets(std::span<const std::uint32_t> positions, BatchTargets& targets) const;

  std::shared_ptr<const SampleSet> samples_;
  std::vector<std::uint32_t> rows_;
  float scale_ = 1.0f;
};

// The `data:` section: the source (a DataSource plugin, built from the section's other keys)
// and the keys every source shares.
struct DataSpec {
  std::string source = "fashion_mnist";  // the DataSource type
  std::shared_ptr<DataSource> reader;    // built from the section by build_model
  std::string plugin, plugin_file;       // the reader's plugin, for the plugin guard's messages
  std::optional<float> scale;            // default: the source's default_scale()
  std::int64_t train_limit = 0;          // 0 = all
  std::int64_t test_limit = 0;
  double validation_split = 0.0;
  std::vector<std::int32_t> classes;    // data.classes: kept in this order, renumbered 0..; empty = all
};

// Keys of `data:` that belong to the core, not to the source; a source may not declare them.
const std::vector<std::string>& shared_data_keys();

struct DataSplits {
  DataView train, validation, test;
  Shape sample_shape;
  TargetKind target_kind = TargetKind::Class;
  std::int64_t target_width = 1;  // per sample (lamina/targets.hpp)
  std::int32_t max_label = 0;     // over all splits (class targets)
  float scale = 1.0f;          // what every input value is multiplied by (data.scale or the source's)
  std::vector<std::string> class_names;  // by class index, when the source names them (lamina/named_samples.hpp)
  std::string data_state;  // what the source learned from the data and the run keeps (lamina/source_state.hpp)
};

// The scaling a model was trained with: its data.scale, which `lamina train` always writes into
// the run's model.yaml; for runs of older versions, the default of its source.
float trained_scale(const DataSpec& spec);

// Checks what a source returned: sizes agree, values finite, ids >= 0, shape of rank 1 to 3,
// and (when `labelled`) targets of their kind: class indices >= 0, multi-label values 0 or 1,
// regression values finite. `source` names the type in messages. Throws InputError.
void check_samples(const SampleSet& s, const std::string& source, bool labelled);

// Reads both splits through spec.reader, checks them, and carves the validation split from the
// training rows with a shuffle seeded by `seed`. Throws InputError naming the file on any defect.
DataSplits load_data(const DataSpec& spec, std::uint64_t seed);

}  // namespace lamina
