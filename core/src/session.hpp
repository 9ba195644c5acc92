// What every command sets up first (train, search, eval, predict, check, plugins, and the
// embedding API): a registry with the plugins of the search path loaded. Under MPI, train and
// search load inside their collective set-up step, so loading is a separate call.
#pragma once

#include "runtime/plugin_loader.hpp"
#include "runtime/registry.hpp"

namespace lamina::detail {

struct Session {
  explicit Session(PluginOptions plugins) : loader(registry, std::move(plugins)) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void load() { loader.load_search_path(); }

  Registry registry;
  PluginLoader loader;
};

}  // namespace lamina::detail
