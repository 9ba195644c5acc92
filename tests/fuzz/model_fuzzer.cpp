// libFuzzer target: a model file through the YAML loader and the whole validation against the
// built plugins (schemas, types, ranges, sections), as `lamina train` does before any data.
#include <lamina/error.hpp>
#include "runtime/model.hpp"
#include "runtime/plugin_loader.hpp"
#include "runtime/registry.hpp"

#include <string>

namespace {
lamina::Registry* registry = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  registry = new lamina::Registry();
  lamina::PluginLoader(*registry).load_directory(LAMINA_FUZZ_PLUGIN_DIR);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const lamina::ModelFile file = lamina::ModelFile::parse(text, "fuzz.yaml");
    const lamina::Model model = lamina::build_model(file, *registry);
    (void)model;
  } catch (const lamina::InputError&) {
  }
  return 0;
}
