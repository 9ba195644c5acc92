#include "lamina/plugin_loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "lamina/error.hpp"
#include "lamina/plugin.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace {

// Loaded libraries live until the process exits: factories and objects made by a plugin point
// into its code, and unloading at static-destruction time races with their destructors
// (Boost.DLL's "Missuses" page). Deliberately leaked.
std::deque<boost::dll::shared_library>& libraries() {
  static auto* libs = new std::deque<boost::dll::shared_library>();
  return *libs;
}

std::vector<fs::path> env_plugin_dirs() {
  std::vector<fs::path> dirs;
  const char* env = std::getenv("LAMINA_PLUGIN_PATH");
  if (env == nullptr) return dirs;
  std::string_view s(env);
  while (!s.empty()) {
    const auto colon = s.find(':');
    std::string_view part = s.substr(0, colon);
    if (!part.empty()) dirs.emplace_back(std::string(part));
    if (colon == std::string_view::npos) break;
    s.remove_prefix(colon + 1);
  }
  return dirs;
}

}  // namespace

fs::path builtin_plugin_dir() { return boost::dll::this_line_location().parent_path() / "lamina" / "plugins"; }

void PluginLoader::load_file(const fs::path& file) {
  std::error_code ec;
  const fs::path path = fs::weakly_canonical(file, ec);
  const std::string name = path.string();
  for (const auto& p : loaded_) {
    if (p.file == path) return;  // listed twice on the search path
  }
  if (!fs::is_regular_file(path, ec)) {
    throw InputError(fmt::format("{}: plugin file does not exist or is not a regular file", name));
  }

  boost::dll::shared_library lib;
  try {
    // rtld_now: a missing symbol is reported here, naming the file, not at the first call.
    lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: cannot load as a shared library: {}", name, e.what()));
  }
  if (!lib.has(LAMINA_PLUGIN_ENTRY_SYMBOL)) {
    throw InputError(
        fmt::format("{}: not a Lamina plugin (it exports no '{}'; plugins are declared "
                    "with LAMINA_PLUGIN in <lamina/plugin.hpp>)",
                    name, LAMINA_PLUGIN_ENTRY_SYMBOL));
  }
  const lamina_plugin_info* info = lib.get<const lamina_plugin_info*()>(LAMINA_PLUGIN_ENTRY_SYMBOL)();
  if (info == nullptr) throw InputError(fmt::format("{}: plugin entry returned no info record", name));
  if (info->abi_version != kAbiVersion) {
    throw InputError(
        fmt::format("{}: plugin ABI version {} does not match this Lamina's ABI version {}; "
                    "rebuild the plugin against Lamina {}",
                    name, info->abi_version, kAbiVersion, LAMINA_VERSION_STRING));
  }
  if (info->info_size != sizeof(lamina_plugin_info) || info->fingerprint == nullptr ||
      std::strcmp(info->fingerprint, kFingerprint) != 0) {
    throw InputError(
        fmt::format("{}: plugin was built as '{}' but this Lamina as '{}'; rebuild the plugin "
                    "with the same compiler and C++ library against this Lamina",
                    name, info->fingerprint ? info->fingerprint : "(none)", kFingerprint));
  }
  if (info->name == nullptr || info->version == nullptr || info->register_types == nullptr) {
    throw InputError(fmt::format("{}: plugin info record is incomplete", name));
  }

  registry_.set_provider({info->name, info->version, name});
  try {
    info->register_types(registry_);
  } catch (const Error&) {
    registry_.set_provider({});
    throw;
  } catch (const std::exception& e) {
    registry_.set_provider({});
    throw InputError(fmt::format("{}: plugin '{}' failed to register its types: {}", name, info->name, e.what()));
  }
  registry_.set_provider({});
  loaded_.push_back({info->name, info->version, info->description ? info->description : "", path});
  libraries().push_back(std::move(lib));
}

void PluginLoader::load_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError(fmt::format("{}: plugin folder does not exist or is not a directory", dir.string()));
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".so") files.push_back(entry.path());
  }
  if (ec) throw InputError(fmt::format("{}: cannot list plugin folder: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  for (const auto& f : files) load_file(f);
}

void PluginLoader::load_search_path(std::span<const fs::path> extra_dirs) {
  std::error_code ec;
  if (const fs::path builtin = builtin_plugin_dir(); fs::is_directory(builtin, ec)) load_directory(builtin);
  for (const auto& dir : env_plugin_dirs()) {
    if (!fs::is_directory(dir, ec)) {
      throw InputError(fmt::format("LAMINA_PLUGIN_PATH names '{}', which is not a directory", dir.string()));
    }
    load_directory(dir);
  }
  for (const auto& dir : extra_dirs) load_directory(dir);
}

}  // namespace lamina
