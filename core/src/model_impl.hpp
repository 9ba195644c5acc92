// Core-internal: what a ModelFile holds.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>

#include "config_impl.hpp"
#include "runtime/model.hpp"

namespace lamina {

struct ModelFile::Impl {
  std::filesystem::path file;
  YAML::Node root;
  std::shared_ptr<const Source> source;
};

}  // namespace lamina
