#include "checkpoint.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "lamina/error.hpp"
#include "runtime/safetensors.hpp"
#include "lamina/version.hpp"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace lamina::detail {
namespace {

constexpr const char* kScheduleState = "schedule.";
std::string callback_prefix(std::size_t i) { return "callbacks." + std::to_string(i) + "."; }

json manifest(const Model& model) {
  json m = json::array();
  for (const auto& t : model.types) {
    m.push_back({{"kind", kind_name(t.kind)}, {"type", t.type}, {"plugin", t.plugin}, {"version", t.version}});
  }
  return m;
}

std::string minor_of(const std::string& version) {
  const auto dot = version.find('.', version.find('.') + 1);
  return version.substr(0, dot);
}

// The three files of a checkpoint change together: they are written into checkpoint.next/,
// which is renamed to checkpoint.commit/ once complete (the commit point), whose files are then
// renamed over the old ones. A kill before the commit point leaves the old set; after it,
// recover_checkpoint() finishes the moves. Each single file is at all times a complete version.
constexpr const char* kNext = "checkpoint.next";
constexpr const char* kCommitting = "checkpoint.commit";

void finish_commit(const fs::path& dir) {
  const fs::path committing = dir / kCommitting;
  for (const char* name : {"model.safetensors", "optimizer.safetensors", "trainer.json"}) {
    const fs::path from = committing / name;
    if (fs::exists(from) && ::rename(from.c_str(), (dir / name).c_str()) != 0) {
      throw Error(fmt::format("{}: cannot finish the checkpoint: {}", from.string(), std::strerror(errno)));
    }
  }
  sync_folder(dir);
  std::error_code ec;
  fs::remove_all(committing, ec);
}

}  // namespace

void recover_checkpoint(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir / kCommitting, ec)) finish_commit(dir);
  fs::remove_all(dir / kNext, ec);
  remove_temporaries(dir);
}

bool has_checkpoint(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "trainer.json", ec);
}

// "[1, 28, 28]": the per-sample input the model was built for (the embedding API reads it).
static std::string shape_json(const Shape& s) {
  json dims = json::array();
  for (int i = 0; i < s.rank(); ++i) dims.push_back(s[i]);
  return dims.dump();
}

// model.safetensors (or model-best.safetensors): every parameter and state tensor by its
// stable name, with the metadata the readers check.
static void write_model(const fs::path& file, Model& model, std::int64_t epoch) {
  std::vector<std::pair<std::string, const Tensor*>> tensors;
  for (auto* p : model.network.params()) tensors.emplace_back(p->name, &p->value);
  for (auto* b : model.network.state()) tensors.emplace_back(b->name, &b->value);
  std::map<std::string, std::string> meta{{"format", "lamina-model"},
                                          {"lamina_version", LAMINA_VERSION_STRING},
                                          {"seed", std::to_string(model.train.seed)},
                                          {"epoch", std::to_string(epoch)},
                                          {"input_shape", shape_json(model.network.input_shape())},
                                          {"plugins", manifest(model).dump()}};
  // Absent means a class per sample, what every run before SDK 5 was (and its files stay alike).
  if (!model.data_state.empty()) meta["data_state"] = model.data_state;
  if (model.target_kind != TargetKind::Class) {
    meta["targets"] = json{{"kind", target_kind_name(model.target_kind)}, {"width", model.target_width}}.dump();
  }
  write_safetensors(file, tensors, meta);
}

void save_best(const fs::path& dir, Model& model, std::int64_t epoch) {
  write_model(dir / kBestWeights, model, epoch);
}

void save_checkpoint(const fs::path& dir, Model& model, const Trainer& trainer) {
  const fs::path next = dir / kNext;
  std::error_code ec;
  fs::remove_all(next, ec);
  if (!fs::create_directory(next, ec)) {
    throw Error(fmt::format("{}: cannot write the checkpoint: {}", next.string(), ec.message()));
  }
  const TrainerState st = trainer.state();
  write_model(next / "model.safetensors", model, st.epoch);
  std::vector<Buffer> opt;
  model.optimizer->save_state(opt);
  // The schedule's state rides with the optimizer's, under "schedule.".
  if (model.schedule) {
    std::vector<Buffer> sched;
    model.schedule->save_state(sched);
    for (auto& b : sched) opt.push_back({std::string(kScheduleState) + b.name, std::move(b.value)});
  }
  // Each callback's under "callbacks.<its index>.".
  for (std::size_t i = 0; i < model.callbacks.size(); ++i) {
    std::vector<Buffer> cb;
    model.callbacks[i]->save_state(cb);
    for (auto& b : cb) opt.push_back({callback_prefix(i) + b.name, std::move(b.value)});
  }
  std::vector<std::pair<std::string, const Tensor*>> opt_tensors;
  for (const auto& b : opt) opt_tensors.emplace_back(b.name, &b.value);
  write_safetensors(next / "optimizer.safetensors", opt_tensors,
                    {{"format", "lamina-optimizer"}, {"epoch", std::to_string(st.epoch)}});
  json t;
  t["epoch"] = st.epoch;
  t["shuffle_rng"] = st.shuffle_rng;
  t["layer_rng"] = st.layer_rng;
  write_file_atomic(next / "trainer.json", t.dump() + "\n");
  sync_folder(next);
  // The commit point: once the folder has this name, every file in it is complete.
  if (::rename(next.c_str(), (dir / kCommitting).c_str()) != 0) {
    throw Error(fmt::format("{}: cannot commit the checkpoint: {}", dir.string(), std::strerror(errno)));
  }
  sync_folder(dir);
  finish_commit(dir);
}

std::int64_t first_non_finite(const Tensor& t) {
  const float* v = t.data();
  for (std::int64_t k = 0; k < t.size(); ++k) {
    if (!std::isfinite(v[k])) return k;
  }
  return -1;
}

void load_weights(const fs::path& dir, Model& model, bool best) {
  const fs::path file = dir / (best ? kBestWeights : "model.safetensors");
  std::error_code ec;
  if (best && !fs::exists(file, ec)) {
    throw InputError(fmt::format("{}: no best checkpoint: the run was trained without a keep_best callback "
                                 "(train: {{callbacks: [{{type: keep_best}}]}})",
                                 file.string()));
  }
  SafetensorsFile f = read_safetensors(file);
  std::size_t used = 0;
  auto take = [&](const std::string& name, Tensor& into) {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end())
      throw InputError(fmt::format("{}: no tensor '{}', which the model needs", file.string(), name));
    if (!(it->second.shape() == into.shape())) {
      throw InputError(fmt::format("{}: tensor '{}' has shape {} but the model's is {}", file.string(), name,
                                   it->second.shape().str(), into.shape().str()));
    }
    if (const std::int64_t k = first_non_finite(it->second); k >= 0) {
      throw InputError(fmt::format("{}: tensor '{}' holds {} at index {}: the weights are not finite", file.string(),
                                   name, it->second.data()[k], k));
    }
    into.copy_from(it->second);
    ++used;
  };
  for (auto* p : model.network.params()) take(p->name, p->value);
  for (auto* b : model.network.state()) take(b->name, b->value);
  if (used != f.tensors.size()) {
    for (const auto& [name, t] : f.tensors) {
      bool known = false;
      for (auto* p : model.network.params()) known = known || p->name == name;
      for (auto* b : model.network.state()) known = known || b->name == name;
      if (!known) throw InputError(fmt::format("{}: tensor '{}' does not belong to the model", file.string(), name));
    }
  }
}

std::vector<std::string> check_manifest(const fs::path& dir, const Registry& registry) {
  const fs::path file = dir / "model.safetensors";
  const SafetensorsFile f = read_safetensors(file);
  std::vector<std::string> warnings;
  auto it = f.metadata.find("plugins");
  if (it == f.metadata.end()) throw InputError(fmt::format("{}: no plugin manifest in the metadata", file.string()));
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: the plugin manifest is not valid JSON: {}", file.string(), e.what()));
  }
  for (const auto& use : m) {
    const std::string type = use.value("type", ""), plugin = use.value("plugin", ""),
                      version = use.value("version", "");
    const TypeInfo* found = nullptr;
    for (const auto* t : registry.find_all(type)) {
      if (kind_name(t->kind) == use.value("kind", "")) found = t;
    }
    if (found == nullptr) {
      throw InputError(fmt::format("{}: the model needs {} '{}' from plugin {} {}, which is not loaded", file.string(),
                                   use.value("kind", ""), type, plugin, version));
    }
    if (minor_of(found->provider.version) != minor_of(version)) {
      throw InputError(fmt::format("{}: {} '{}' was trained with plugin {} {} but {} {} is loaded ({})", file.string(),
                                   use.value("kind", ""), type, plugin, version, found->provider.plugin,
                                   found->provider.version, found->provider.file));
    }
    if (found->provider.version != version) {
      warnings.push_back(fmt::format("warning: {} '{}' was trained with plugin {} {}, {} is loaded",
                                     use.value("kind", ""), type, plugin, version, found->provider.version));
    }
  }
  return warnings;
}

void load_training_state(const fs::path& dir, Model& model, Trainer& trainer) {
  const SafetensorsFile opt = read_safetensors(dir / "optimizer.safetensors");
  const auto model_meta = read_safetensors(dir / "model.safetensors").metadata;
  std::vector<Buffer> state, sched;
  std::vector<std::vector<Buffer>> callbacks(model.callbacks.size());
  for (const auto& [name, t] : opt.tensors) {
    if (name.starts_with(kScheduleState)) {
      sched.push_back({name.substr(std::string_view(kScheduleState).size()), t.clone()});
      continue;
    }
    bool taken = false;
    for (std::size_t i = 0; i < callbacks.size() && !taken; ++i) {
      if (name.starts_with(callback_prefix(i))) {
        callbacks[i].push_back({name.substr(callback_prefix(i).size()), t.clone()});
        taken = true;
      }
    }
    if (!taken) state.push_back({name, t.clone()});
  }
  try {
    model.optimizer->load_state(state);
    for (std::size_t i = 0; i < callbacks.size(); ++i) model.callbacks[i]->load_state(callbacks[i]);
    if (model.schedule) {
      model.schedule->load_state(sched);
    } else if (!sched.empty()) {
      throw InputError(fmt::format("the checkpoint holds schedule state '{}' but the model has no schedule",
                                   sched[0].name));
    }
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", (dir / "optimizer.safetensors").string(), e.what()));
  }
  const fs::path file = dir / "trainer.json";
  if (!fs::exists(file)) throw InputError(fmt::format("{}: missing: not a resumable run folder", file.string()));
  const std::string text = read_whole_file(file, "the trainer state", kTextCap);
  try {
    const auto j = nlohmann::json::parse(text);
    TrainerState st{j.at("epoch").get<std::int64_t>(), j.at("shuffle_rng").get<std::string>(),
                    j.at("layer_rng").get<std::string>()};
    // The three files of a set are of one epoch (checkpoint.hpp); files copied together from
    // different epochs would resume into other numbers.
    for (const auto& [name, meta] : {std::pair{"model.safetensors", model_meta}, std::pair{"optimizer.safetensors", opt.metadata}}) {
      const auto e = meta.find("epoch");
      if (e != meta.end() && e->second != std::to_string(st.epoch)) {
        // (prefixed with trainer.json's name below)
        throw InputError(fmt::format("of epoch {}, but {} is of epoch {}: a checkpoint's files come from one epoch; "
                                     "restore the set one epoch wrote",
                                     st.epoch, (dir / name).string(), e->second));
      }
    }
    trainer.restore(st);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not a trainer state: {}", file.string(), e.what()));
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", file.string(), e.what()));
  }
}

}  // namespace lamina::detail
