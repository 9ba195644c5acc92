// The one policy for calls into plugin code (docs/errors.md, "Plugin faults"), the same for every
// kind, data sources included:
//   - an InputError the plugin throws is bad input: its words, after the place and the plugin;
//   - anything else it throws — lamina::Error, any std::exception, or something that is not an
//     exception class at all — is a plugin fault: an InputError naming the place, the type, the
//     plugin and its file, the method, and what it threw;
//   - std::bad_alloc stays "out of memory" (an Error, exit 1): the machine's limit, not the
//     plugin's fault.
// Both reach the user with exit status 2. The new exception is built from copies of the texts: the
// object thrown may belong to the plugin's code.
#pragma once

#include <fmt/format.h>

#include <new>
#include <string>
#include <utility>

#include "lamina/error.hpp"

namespace lamina::detail {

// Where a call goes: "layers.0", "loss", "train.callbacks.1", "data"; its type; the plugin and file.
struct PluginSite {
  std::string place;
  std::string type;
  std::string plugin;  // "" when unknown (a component built outside a model file)
  std::string file;
};

inline std::string plugin_named(const PluginSite& s) {
  return s.plugin.empty() ? s.type : fmt::format("{} from plugin '{}'", s.type, s.plugin);
}

template <class F>
decltype(auto) plugin_call(const PluginSite& s, const char* method, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const InputError& e) {
    throw InputError(fmt::format("{} ({}): {}", s.place, plugin_named(s), e.what()));
  } catch (const std::bad_alloc&) {
    throw Error(fmt::format("{} ({}): out of memory in {}", s.place, plugin_named(s), method));
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{} ({}{}): {} failed in plugin code: {}", s.place, plugin_named(s),
                                 s.file.empty() ? "" : ", " + s.file, method, e.what()));
  } catch (...) {
    throw InputError(fmt::format("{} ({}{}): {} failed in plugin code: it threw something that is not a "
                                 "std::exception",
                                 s.place, plugin_named(s), s.file.empty() ? "" : ", " + s.file, method));
  }
}

}  // namespace lamina::detail
