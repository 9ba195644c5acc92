#include "init_from.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <map>

#include "checkpoint.hpp"
#include "config_impl.hpp"
#include "lamina/error.hpp"
#include "name_pattern.hpp"
#include "runtime/safetensors.hpp"

namespace fs = std::filesystem;

namespace lamina::detail {

namespace {

// A tensor by its stable name and, when its layer is named, the name-based alias.
struct Named {
  std::string name, alias;
  Tensor* value = nullptr;        // this model's
  const Tensor* given = nullptr;  // the run's
};

// The `name:` of each layer of the run, from its model.yaml: patterns may name the run's layers
// by name as this model's. A run written before names existed has none; nothing else is read.
std::vector<std::string> run_layer_names(const fs::path& yaml_file) {
  std::vector<std::string> names;
  YAML::Node root;
  try {
    root = YAML::LoadFile(yaml_file.string());
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: not a readable model file ({})", yaml_file.string(), e.msg));
  }
  // With blocks, the layers as they ran are `layers_expanded` (model_spec.cpp's resolved_yaml).
  YAML::Node layers = detail::lookup(root, "layers_expanded");
  if (!layers.IsDefined()) layers = detail::lookup(root, "layers");
  if (!layers.IsSequence()) return names;
  for (const auto& l : layers) {
    const YAML::Node n = detail::lookup(l, "name");
    names.push_back(n.IsDefined() && n.IsScalar() ? n.Scalar() : "");
  }
  return names;
}

std::string shown(const Named& t) { return t.alias.empty() ? t.name : fmt::format("{} ({})", t.name, t.alias); }

}  // namespace

void init_from_run(Model& model, std::ostream* out) {
  if (!model.init_from) return;
  const InitFrom& init = *model.init_from;
  const std::string& where = init.where;
  const fs::path& dir = init.run;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError(fmt::format("{}: init_from: {}: no such run folder", where, dir.string()));
  }
  if (!fs::exists(dir / "model.yaml", ec)) {
    throw InputError(fmt::format("{}: init_from: {}: not a run folder (no model.yaml)", where, dir.string()));
  }
  const fs::path file = dir / (init.best ? "model-best.safetensors" : "model.safetensors");
  if (!fs::exists(file, ec)) {
    throw InputError(init.best ? fmt::format("{}: init_from: {}: no best weights (model-best.safetensors): the run "
                                             "was trained without a keep_best callback; use `weights: last`",
                                             where, dir.string())
                               : fmt::format("{}: init_from: {}: no checkpoint yet (the run has not finished an "
                                             "epoch)",
                                             where, dir.string()));
  }
  const SafetensorsFile f = read_safetensors(file);
  const std::vector<std::string> run_names = run_layer_names(dir / "model.yaml");

  std::vector<Named> mine;
  for (Param* p : model.network.params()) mine.push_back({p->name, named_alias(p->name, model.layer_names), &p->value});
  for (Buffer* b : model.network.state()) mine.push_back({b->name, named_alias(b->name, model.layer_names), &b->value});
  std::vector<Named> theirs;
  for (const auto& [name, t] : f.tensors) theirs.push_back({name, named_alias(name, run_names), nullptr, &t});

  // Which of the run's tensors each of this model's receives: rules in order, the last one that
  // maps a tensor here decides. Without `tensors`, each goes to the tensor of its own name.
  std::vector<std::pair<std::string, std::string>> rules = init.tensors;
  if (!init.tensors_written) rules = {{"*", "*"}};
  std::map<std::size_t, std::size_t> source_of;  // mine -> theirs
  std::vector<std::string> problems, notes;
  for (const auto& [from, to] : rules) {
    bool any = false;
    for (std::size_t s = 0; s < theirs.size(); ++s) {
      std::vector<std::string> captures;
      // The index name first: a rule written with indices renames indices.
      if (!match_name(from, theirs[s].name, &captures) &&
          (theirs[s].alias.empty() || !match_name(from, theirs[s].alias, &captures))) {
        continue;
      }
      any = true;
      const std::string target = fill_pattern(to, captures);
      std::size_t m = 0;
      while (m < mine.size() && mine[m].name != target && mine[m].alias != target) ++m;
      if (m == mine.size()) {
        if (init.tensors_written) {
          notes.push_back(fmt::format("the run's {} would go to {}, which this model does not have", shown(theirs[s]),
                                      target));
        }
        continue;
      }
      source_of[m] = s;
    }
    if (!any) {
      problems.push_back(fmt::format("'{}' matches no tensor of the run (its tensors: {})", from, [&] {
        std::vector<std::string> names;
        for (const auto& t : theirs) names.push_back(shown(t));
        return fmt::format("{}", fmt::join(names, ", "));
      }()));
    }
  }

  std::size_t loaded = 0;
  for (const auto& [m, s] : source_of) {
    const Tensor& given = *theirs[s].given;
    if (!(given.shape() == mine[m].value->shape())) {
      problems.push_back(fmt::format("{}: the run's {} is {} but this model's is {}; left at its initialization",
                                     shown(mine[m]), theirs[s].name, given.shape().str(), mine[m].value->shape().str()));
      continue;
    }
    if (const std::int64_t k = first_non_finite(given); k >= 0) {
      throw InputError(fmt::format("{}: init_from: {}: tensor '{}' holds {} at index {}: the weights are not finite",
                                   where, file.string(), theirs[s].name, given.data()[k], k));
    }
    mine[m].value->copy_from(given);
    ++loaded;
  }
  std::vector<std::string> left;
  for (std::size_t m = 0; m < mine.size(); ++m) {
    if (!source_of.count(m)) left.push_back(shown(mine[m]));  // (a shape that differs has its own line)
  }
  if (!init.tensors_written) {
    std::vector<bool> mapped(theirs.size(), false);
    for (const auto& [m, s] : source_of) mapped[s] = true;
    for (std::size_t s = 0; s < theirs.size(); ++s) {
      if (!mapped[s]) {
        notes.push_back(fmt::format("the run's {} has no tensor of that name here; not used", shown(theirs[s])));
      }
    }
  }

  std::string report;
  auto line = [&](const std::string& text) { report += "\n  " + text; };
  for (const auto& p : problems) line(p);
  for (const auto& l : left) line("left at its initialization: " + l);
  for (const auto& n : notes) line(n);
  const auto epoch = f.metadata.find("epoch");
  const std::string head = fmt::format(
      "init_from {} ({}{}): {} of this model's {} tensors loaded", dir.string(), file.filename().string(),
      epoch == f.metadata.end() ? "" : ", epoch " + epoch->second, loaded, mine.size());
  if (init.strict && (!problems.empty() || !left.empty())) {
    throw InputError(fmt::format("{}: {} and strict is set:{}", where, head, report));
  }
  if (out) *out << head << report << std::endl;
}

}  // namespace lamina::detail
