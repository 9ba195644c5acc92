// Data sets. Samples hold a whole file in memory — 8-bit images stay uint8 (Fashion-MNIST's
// 60k images take 47 MB, not 188) and become float one batch at a time; CSV features are kept
// as float. A DataView is a list of rows of Samples: the train, validation and test splits are
// views, so carving a validation set copies nothing.
//
//   lamina::DataSplits d = lamina::load_data(spec, seed);
//   d.train.batch(rows, x, labels);     // x: rows.size() x 784, scaled to [0, 1]
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lamina/tensor.hpp"

namespace lamina {

struct Samples {
  std::string origin;  // the file(s) they came from, for messages
  Shape sample_shape;  // per-sample shape as the network sees it, (784)
  std::vector<std::int64_t> file_dims;  // per-sample dims as stored (28, 28), if they differ
  std::int64_t count = 0;
  std::vector<std::uint8_t> pixels;  // count x dim, for 8-bit sources
  std::vector<float> features;       // count x dim, otherwise
  float scale = 1.0f;                // applied when a batch is made
  std::vector<std::int32_t> labels;  // count, each >= 0
  std::string labels_origin;         // the labels' file, for messages

  std::int64_t dim() const { return sample_shape.numel(); }
};

class DataView {
 public:
  DataView() = default;
  DataView(std::shared_ptr<const Samples> samples, std::vector<std::uint32_t> rows);

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const Samples& samples() const { return *samples_; }
  // Gathers the view's rows at `positions` (indices into this view) into x and labels.
  void batch(std::span<const std::uint32_t> positions, Tensor& x, std::vector<std::int32_t>& labels) const;

 private:
  std::shared_ptr<const Samples> samples_;
  std::vector<std::uint32_t> rows_;
};

struct DataSpec {
  std::string source = "fashion-mnist";  // fashion-mnist | idx | csv
  std::filesystem::path dir;             // fashion-mnist: folder of the four IDX files
  std::filesystem::path train_images, train_labels, test_images, test_labels;  // idx
  std::filesystem::path train_csv, test_csv;                                   // csv
  std::int64_t label_column = 0;
  std::string header = "auto";   // csv: auto | true | false
  std::optional<float> scale;    // default: 1/255 for 8-bit sources, 1 for csv
  std::int64_t train_limit = 0;  // 0 = all
  std::int64_t test_limit = 0;
  double validation_split = 0.0;
};

struct DataSplits {
  DataView train, validation, test;
  Shape sample_shape;
  std::int32_t max_label = 0;  // over all splits
  float scale = 1.0f;          // what every input value is multiplied by (data.scale or the source's)
};

// The scaling a model was trained with: its data.scale, which `lamina train` always writes into
// the run's model.yaml; for runs of older versions, the default of its source.
float trained_scale(const DataSpec& spec);

// Reads the files named by `spec` and carves the validation split from the training rows with
// a shuffle seeded by `seed`. Throws InputError naming the file on any defect.
DataSplits load_data(const DataSpec& spec, std::uint64_t seed);

// The readers, exposed for tests and tools.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
};
IdxArray read_idx(const std::filesystem::path& file);  // plain or gzip, unsigned-byte IDX
Samples read_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels);
// label_column -1: every column is a feature and the samples have no labels.
Samples read_csv(const std::filesystem::path& file, std::int64_t label_column, const std::string& header);

}  // namespace lamina
