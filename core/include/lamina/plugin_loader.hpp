// Finding and loading plugins (Boost.DLL). The search path, in order:
//   1. the installation's own plugin folder (lib/lamina/plugins beside liblamina_core),
//   2. each folder of the LAMINA_PLUGIN_PATH environment variable (colon-separated),
//   3. each --plugin-dir given on the command line.
// Every *.so in those folders must be a Lamina plugin. Before anything of C++ crosses, the
// loader checks the plugin's ABI version and build fingerprint; then it calls the plugin's
// registration function. Loaded libraries are never unloaded while the process runs, so every
// object a plugin made outlives nothing it needs.
//
//   lamina::Registry registry;
//   lamina::PluginLoader loader(registry);
//   loader.load_search_path({"./my-plugins"});
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "lamina/export.hpp"
#include "lamina/registry.hpp"

namespace lamina {

struct LoadedPlugin {
  std::string name;
  std::string version;
  std::string description;
  std::filesystem::path file;
};

class LAMINA_API PluginLoader {
 public:
  explicit PluginLoader(Registry& registry) : registry_(registry) {}

  void load_file(const std::filesystem::path& file);
  void load_directory(const std::filesystem::path& dir);  // every *.so, in name order
  // The whole search path above; `extra_dirs` are the --plugin-dir folders.
  void load_search_path(std::span<const std::filesystem::path> extra_dirs = {});

  const std::vector<LoadedPlugin>& loaded() const { return loaded_; }

 private:
  Registry& registry_;
  std::vector<LoadedPlugin> loaded_;
};

// lib/lamina/plugins beside the core library, in the build tree and in an installation alike.
LAMINA_API std::filesystem::path builtin_plugin_dir();

}  // namespace lamina
