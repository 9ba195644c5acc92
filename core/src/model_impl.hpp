// Core-internal: what a ModelFile holds.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config_impl.hpp"
#include "runtime/model.hpp"

namespace lamina {

struct ModelFile::Impl {
  std::filesystem::path file;
  YAML::Node root;
  std::shared_ptr<const Source> source;
  // What with() re-reads the model from: YAML::Clone would drop the line marks that messages
  // point at (an error found later, in a layer's build, would say file:1:1).
  std::string text;                  // the document
  std::string name;                  // its name in messages
  std::string section;               // the model's key in it (a search file's `model:`), or ""
  std::vector<std::string> applied;  // the --set overrides, in order
};

// A copy of the model's tree (overrides applied) whose nodes keep their line marks: what a block
// is expanded into, once per use, so that messages still point into the file.
YAML::Node fresh_root(const ModelFile::Impl& impl);

}  // namespace lamina
