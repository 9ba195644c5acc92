// Finding and loading plugins (Boost.DLL). The search path, in order:
//   1. the installation's own plugin folder (lib/lamina/plugins beside liblamina_core),
//   2. each folder of the LAMINA_PLUGIN_PATH environment variable (colon-separated),
//   3. each --plugin-dir given on the command line.
// Every *.so in those folders must be a Lamina plugin. Like ssh with its keys, the loader refuses
// a plugin file, or the folder holding it, that someone other than its owner (or root) could
// write: whoever can write it could run code as the user training. `allow_writable` (the
// --allow-writable-plugins flag) lifts that check. Before anything of C++ crosses, the
// loader checks the plugin's ABI version and build fingerprint; then it calls the plugin's
// registration function. Loaded libraries are never unloaded while the process runs, so every
// object a plugin made outlives nothing it needs.
//
//   lamina::Registry registry;
//   lamina::PluginLoader loader(registry, {.dirs = {"./my-plugins"}});
//   loader.load_search_path();
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "runtime/registry.hpp"

namespace lamina {

struct LoadedPlugin {
  std::string name;
  std::string version;
  std::string description;
  std::string lamina_version;  // the SDK it was built against
  std::filesystem::path file;
  std::string origin;  // "built-in folder", "LAMINA_PLUGIN_PATH", "--plugin-dir" or "file"
};

// Where plugins come from, as the command line gives it.
struct PluginOptions {
  std::vector<std::filesystem::path> dirs;  // --plugin-dir, in order
  bool allow_writable = false;              // --allow-writable-plugins
};

class PluginLoader {
 public:
  explicit PluginLoader(Registry& registry, PluginOptions options = {})
      : registry_(registry), options_(std::move(options)) {}

  void load_file(const std::filesystem::path& file, const std::string& origin = "file");
  // Every *.so, in name order.
  void load_directory(const std::filesystem::path& dir, const std::string& origin = "--plugin-dir");
  // The whole search path above, ending with the options' --plugin-dir folders.
  void load_search_path();

  const std::vector<LoadedPlugin>& loaded() const { return loaded_; }

 private:
  Registry& registry_;
  PluginOptions options_;
  std::vector<LoadedPlugin> loaded_;
};

// lib/lamina/plugins beside the core library, in the build tree and in an installation alike.
std::filesystem::path builtin_plugin_dir();

}  // namespace lamina
