// Lamina-internal side of Config: the YAML node behind it and the functions that bind a mapping
// to a schema. yaml-cpp stays out of the SDK headers so plugins need not depend on it. This
// header is shared by liblamina_sdk and the runtime and installed with neither: its functions
// are exported from liblamina_sdk (LAMINA_INTERNAL) for the runtime alone, and are no part of
// the plugin ABI.
#pragma once

#include "internal.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lamina/config.hpp"
#include "lamina/registrar.hpp"


namespace lamina {

// What builds a Component key's value (Config::make): the host's registry, seen by the SDK
// library only through this interface.
class ComponentFactory {
 public:
  virtual Registrar::Erased create_erased(Kind kind, const Config& spec) const = 0;

 protected:
  ~ComponentFactory() = default;
};

// Where a YAML tree came from: the file, and the paths that --set replaced (path -> the flag as
// typed), so an error in an overridden value names the flag instead of a line of the file.
struct Source {
  std::string file;
  std::map<std::string, std::string, std::less<>> overrides;
};

struct Config::Impl {
  YAML::Node node;
  std::shared_ptr<const Source> source;
  std::string path;
  const Schema* schema = nullptr;  // set once bound
  std::string type;
  std::string type_key = "type";  // the key naming the type: `type`, or data's `source`
  const ComponentFactory* registry = nullptr;
  std::vector<std::string> extra_keys;  // the host's keys beside the schema's (a layer's `name`)
};

namespace detail {

// Config's private parts, for Lamina's own libraries.
struct ConfigAccess {
  static const Config::Impl& impl(const Config& c) { return *c.impl_; }
  static Config make(std::shared_ptr<const Config::Impl> impl) { return Config(std::move(impl)); }
};
inline const Config::Impl& impl_of(const Config& c) { return ConfigAccess::impl(c); }

LAMINA_INTERNAL std::string child_path(const std::string& path, std::string_view key);
// "model.yaml:3:14" (1-based) or "--set layers.0.units=abc".
LAMINA_INTERNAL std::string location(const Source& source, const std::string& path, const YAML::Node& node);
[[noreturn]] LAMINA_INTERNAL void fail_at(const Source& source, const std::string& path, const YAML::Node& node, std::string_view what);
// How a value looks in a message: 'abc', a mapping, a list, nothing.
LAMINA_INTERNAL std::string describe(const YAML::Node& node);
// The value node of `key` in a mapping (an invalid node when absent), without inserting.
LAMINA_INTERNAL YAML::Node lookup(const YAML::Node& mapping, std::string_view key);

LAMINA_INTERNAL Config unbound(YAML::Node node, std::shared_ptr<const Source> source, std::string path,
                               const ComponentFactory* registry);
// Validates a mapping against a schema (types, ranges, required and unknown keys) and returns
// the bound Config. `owner` names what the keys belong to in messages ("affine", "train").
LAMINA_INTERNAL Config bind(const Config& spec, const Schema& schema, std::string type, std::span<const std::string> extra_keys,
            std::string_view owner, std::string_view type_key = "type");
// A Path key's value resolved against the folder of the file that holds it.
LAMINA_INTERNAL std::filesystem::path resolve_path(const Source& source, const std::string& value);
// The bound mapping with every declared key present: the file's value or the default.
LAMINA_INTERNAL YAML::Node resolved(const Config& bound, std::span<const std::string> extra_keys = {});

}  // namespace detail
}  // namespace lamina
