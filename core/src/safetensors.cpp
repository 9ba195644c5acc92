#include "runtime/safetensors.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "lamina/error.hpp"

namespace fs = std::filesystem;
static_assert(std::endian::native == std::endian::little, "safetensors data are little-endian");

namespace lamina {

void write_safetensors(const fs::path& file, const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  std::size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    std::vector<std::int64_t> shape;
    for (int i = 0; i < t->rank(); ++i) shape.push_back(t->dim(i));
    const std::size_t bytes = static_cast<std::size_t>(t->size()) * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // the format allows padding; it aligns the data
  std::string out(8, '\0');
  const std::uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  out += json;
  for (const auto& [name, t] : tensors) out.append(reinterpret_cast<const char*>(t->data()), t->size() * sizeof(float));
  detail::write_file_atomic(file, out);
}

SafetensorsFile read_safetensors(const fs::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw InputError(fmt::format("{}: no such checkpoint file", name));
  const std::string bytes = detail::read_whole_file(file, "the checkpoint");
  if (bytes.size() < 8)
    throw InputError(fmt::format("{}: truncated: {} bytes, not even a header length", name, bytes.size()));
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8 || n > (100u << 20)) {
    throw InputError(fmt::format("{}: the header claims {} bytes but the file holds {} after the length", name, n,
                                 bytes.size() - 8));
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, n));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: the header is not valid JSON: {}", name, e.what()));
  }
  if (!header.is_object()) throw InputError(fmt::format("{}: the header is not a JSON object", name));
  const std::size_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;
  SafetensorsFile f;
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (const auto& [key, v] : header.items()) {
    if (key == "__metadata__") {
      if (!v.is_object()) throw InputError(fmt::format("{}: __metadata__ is not a map of strings", name));
      for (const auto& [mk, mv] : v.items()) {
        if (!mv.is_string()) throw InputError(fmt::format("{}: __metadata__.{} is not a string", name, mk));
        f.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    try {
      if (v.at("dtype") != "F32") {
        throw InputError(
            fmt::format("{}: tensor '{}' has dtype {}, Lamina reads F32 only", name, key, v.at("dtype").dump()));
      }
      std::vector<std::int64_t> shape = v.at("shape").get<std::vector<std::int64_t>>();
      const auto offsets = v.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (shape.empty() || shape.size() > 4 || offsets.size() != 2) {
        throw InputError(
            fmt::format("{}: tensor '{}' has a shape of {} dimensions or bad offsets", name, key, shape.size()));
      }
      std::uint64_t count = 1;
      for (auto d : shape) {
        if (d < 0 || d > (std::int64_t{1} << 32))
          throw InputError(fmt::format("{}: tensor '{}' has a bad size", name, key));
        // Judged before multiplying: a product past 2^64 would wrap to a small count.
        constexpr std::uint64_t kMaxValues = std::uint64_t{1} << 34;
        if (d != 0 && count > kMaxValues / static_cast<std::uint64_t>(d)) {
          throw InputError(fmt::format("{}: tensor '{}' has shape {} of more than 2^34 values: not a Lamina "
                                       "checkpoint",
                                       name, key, nlohmann::json(shape).dump()));
        }
        count *= static_cast<std::uint64_t>(d);
      }
      if (offsets[0] > offsets[1] || offsets[1] > data_size || offsets[1] - offsets[0] != count * sizeof(float)) {
        throw InputError(fmt::format("{}: tensor '{}' claims bytes [{}, {}) for {} floats but the data hold {} bytes",
                                     name, key, offsets[0], offsets[1], count, data_size));
      }
      spans.emplace_back(offsets[0], offsets[1]);
      Tensor t(Shape::from(shape));
      std::memcpy(t.data(), data + offsets[0], offsets[1] - offsets[0]);
      f.tensors.emplace(key, std::move(t));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}: tensor '{}' is described wrongly: {}", name, key, e.what()));
    }
  }
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first < spans[i - 1].second)
      throw InputError(fmt::format("{}: two tensors overlap in the data", name));
  }
  return f;
}

}  // namespace lamina
