// DataSource: where a model's samples come from. The model file names it under `data:` by its
// `source:` key, beside the keys every source shares (train_limit, test_limit,
// validation_split, scale), which the host handles:
//
//   data: {source: npy, train_x: x.npy, train_y: y.npy, test_x: tx.npy, test_y: ty.npy}
//
// A source reads whole files into a SampleSet; the host checks what it returns (counts,
// targets, shapes, finite values), carves the validation split, limits, scales and batches.
// A sample keeps its shape: an image is (channels, height, width), a row of features (D). The
// batch the first layer sees is (N, ...that shape).
//
// Read files in load(), not in the constructor: the constructor runs for every command that
// builds the model (`lamina check`, `predict`), and must only read the keys. Declare file
// names with Key::path and read them with Config::file(), so that they resolve against the
// model file's folder and a run's model.yaml records them absolute.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lamina/error.hpp"
#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/targets.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

enum class Split { Train, Test };

// Samples as a source delivers them. Exactly one of `bytes`, `values` and `ids` holds count x
// sample_shape.numel() numbers, row-major: 8-bit data stays bytes in memory (60k Fashion-MNIST
// images take 47 MB, not 188) and becomes float one batch at a time; token ids stay integers all
// the way to the first layer (Context::input_ids), so ids beyond 2^24 are never rounded.
//
// Targets (lamina/targets.hpp): a class index per sample in `labels` unless the source says
// otherwise. A source of another kind sets target_kind and target_width and fills `labels`
// (ClassPerPosition: count x T indices) or `target_values` (MultiLabel, Regression: count x width).
struct SampleSet {
  std::string origin;                // the file(s) the samples came from, for messages
  Shape sample_shape;                // one sample: (1, 28, 28), (D), (T); rank 1 to 3
  std::int64_t count = 0;            // number of samples
  std::vector<std::uint8_t> bytes;   // 8-bit data, or
  std::vector<float> values;         // anything else (finite), or
  std::vector<std::int32_t> labels;  // class targets (empty from read_inputs)
  std::string labels_origin;         // the targets' file, for messages (default: origin)
  TargetKind target_kind = TargetKind::Class;
  std::int64_t target_width = 1;     // per sample: 1, C labels, K outputs or T positions
  std::vector<float> target_values;  // MultiLabel (0 or 1) and Regression targets
  std::vector<std::int32_t> ids;     // token ids >= 0, instead of bytes or values
};

class LAMINA_API DataSource {
 public:
  static constexpr Kind kind = Kind::DataSource;
  virtual ~DataSource() = default;

  // Reads one split. Throws InputError naming the file and what is wrong with it.
  virtual SampleSet load(Split split) = 0;

  // What each value is multiplied by when the model gives no data.scale: 1/255 for 8-bit
  // pixels, so they land in [0, 1]; 1 for data that arrives already scaled. It may look at a
  // file's header (npy: the dtype), never at the samples.
  virtual float default_scale() = 0;

  // `lamina predict`: the samples of a file in this source's format, without labels, shaped as
  // load() shapes them. A source that has no such format keeps this default.
  virtual SampleSet read_inputs(const std::filesystem::path& file) {
    throw InputError(file.string() + ": this data source does not read prediction inputs");
  }
};

}  // namespace lamina
