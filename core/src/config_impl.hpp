// Core-internal side of Config: the YAML node behind it and the functions that bind a mapping
// to a schema. yaml-cpp stays out of the SDK headers so plugins need not depend on it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <span>
#include <string>

#include "lamina/config.hpp"
#include "lamina/registry.hpp"

namespace lamina {

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
  const Registry* registry = nullptr;
};

namespace detail {

std::string child_path(const std::string& path, std::string_view key);
// "model.yaml:3:14" (1-based) or "--set layers.0.units=abc".
std::string location(const Source& source, const std::string& path, const YAML::Node& node);
[[noreturn]] void fail_at(const Source& source, const std::string& path, const YAML::Node& node, std::string_view what);
// How a value looks in a message: 'abc', a mapping, a list, nothing.
std::string describe(const YAML::Node& node);
// The value node of `key` in a mapping (an invalid node when absent), without inserting.
YAML::Node lookup(const YAML::Node& mapping, std::string_view key);

Config unbound(YAML::Node node, std::shared_ptr<const Source> source, std::string path, const Registry* registry);
// Validates a mapping against a schema (types, ranges, required and unknown keys) and returns
// the bound Config. `owner` names what the keys belong to in messages ("affine", "train").
Config bind(const Config& spec, const Schema& schema, std::string type, std::span<const std::string> extra_keys,
            std::string_view owner);
// The bound mapping with every declared key present: the file's value or the default.
YAML::Node resolved(const Config& bound, std::span<const std::string> extra_keys = {});

}  // namespace detail
}  // namespace lamina
