// safetensors files (the format of Hugging Face's safetensors library): an 8-byte little-endian
// header length N, N bytes of JSON naming each tensor's dtype, shape and [begin, end) byte
// offsets into the data that follows, and an optional "__metadata__" map of strings. Lamina
// writes float32 tensors only and reads them back with every size and offset checked, so a
// truncated file or a header that lies fails with a message, never a wild read.
//
//   lamina::write_safetensors("run/model.safetensors", {{"layers.0.W", &w}}, {{"seed", "42"}});
//   auto file = lamina::read_safetensors("run/model.safetensors");
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lamina/tensor.hpp"

namespace lamina {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Written to a temporary name and renamed into place.
void write_safetensors(const std::filesystem::path& file,
                                  const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
// Throws InputError naming the file and the defect.
SafetensorsFile read_safetensors(const std::filesystem::path& file);

}  // namespace lamina
