// IDX files (LeCun's MNIST format): the reader, kept apart from the plugin's types so that the
// tests and the fuzzer call it directly.
#pragma once

#include <lamina/data_source.hpp>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace lamina_idx {

struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
};

// Plain or gzip, unsigned-byte IDX. Throws lamina::InputError naming the file.
IdxArray read_idx(const std::filesystem::path& file);
// An N x ... array as samples: N x H x W becomes N samples of (1, H, W); no labels.
lamina::SampleSet samples_of(IdxArray a, const std::filesystem::path& file);
// Images and their labels (an N array of class numbers).
lamina::SampleSet read_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels);

}  // namespace lamina_idx
