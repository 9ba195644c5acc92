// NumPy .npy files (format versions 1.0, 2.0 and 3.0): the reader, kept apart from the plugin's
// type so that the tests and the fuzzer call it directly.
//   https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
#pragma once

#include <lamina/data_source.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lamina_npy {

// What the header says.
struct NpyHeader {
  std::string descr;  // '|u1', '<f4', '<i8', ...
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
  std::uint64_t data_offset = 0;  // where the array's bytes start
};

// Reads and checks the header only (magic, version, the dict). Throws lamina::InputError.
NpyHeader read_npy_header(const std::filesystem::path& file);

// Samples: uint8 ('|u1') or float32 ('<f4') in C order, N x ... (rank 2 to 4); N x H x W
// becomes N samples of (1, H, W). Any other integer dtype is token ids, N x T, each in
// [0, 2^31), delivered exactly as SampleSet::ids. No labels.
lamina::SampleSet read_npy_samples(const std::filesystem::path& file);

// Targets: integers (any signed or unsigned type of 1 to 8 bytes, little endian, each in
// [0, 2^31)) of N (a class per sample) or N x T (a class per position); float32 or float64 of N
// or N x K (regression). `multilabel`: N x C of 0 and 1, of any of those dtypes.
struct NpyTargets {
  lamina::TargetKind kind = lamina::TargetKind::Class;
  std::int64_t count = 0, width = 1;
  std::vector<std::int32_t> classes;
  std::vector<float> values;
};
NpyTargets read_npy_targets(const std::filesystem::path& file, bool multilabel);

// Class labels: a 1-D array of any integer type (signed or unsigned, 1 to 8 bytes, little
// endian), each in [0, 2^31).
std::vector<std::int32_t> read_npy_labels(const std::filesystem::path& file);

}  // namespace lamina_npy
