// Embedding Lamina in a C++ program: load the plugins, create one component by type, build a
// model from a YAML file or a trained run folder, and run it on the program's own tensors.
// This is the API for hosts (applications, test harnesses), separate from the plugin SDK (what
// a plugin may include) and from the runtime's internals (which neither sees). Link
// lamina::embed (find_package(Lamina) then target_link_libraries(app PRIVATE lamina::embed)).
//
//   lamina::embed::Host host;                                  // built-in plugins + LAMINA_PLUGIN_PATH
//   auto relu = host.create<lamina::Layer>("{type: relu}");     // one component, keys checked
//   lamina::embed::Model model = host.load_run("runs/mlp-20261201-101500");
//   lamina::Tensor x({n, 784});                                 // raw values, as in the training files
//   lamina::Tensor p = model.predict_raw(x);                    // n x classes probabilities
//
// Every error is a lamina::InputError (bad input: a model file, a run folder, a shape) or a
// lamina::Error (a failure while running), with the same message the `lamina` command prints.
// A Host and its Models may be used from one thread at a time; make one per thread otherwise.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lamina/kind.hpp"
#include "lamina/registrar.hpp"
#include "lamina/tensor.hpp"

#define LAMINA_EMBED_API __attribute__((visibility("default")))

namespace lamina::embed {

struct HostOptions {
  std::vector<std::filesystem::path> plugin_dirs;  // loaded after the built-in folder and LAMINA_PLUGIN_PATH
  bool allow_writable_plugins = false;             // as --allow-writable-plugins
  bool builtin_plugins = true;                     // the built-in folder and LAMINA_PLUGIN_PATH
};

struct PluginInfo {
  std::string name, version, file;
};

struct TypeInfo {
  Kind kind;
  std::string name, summary, plugin;
};

class Model;

class LAMINA_EMBED_API Host {
 public:
  explicit Host(const HostOptions& options = {});
  ~Host();
  Host(Host&&) noexcept;
  Host& operator=(Host&&) noexcept;

  std::vector<PluginInfo> plugins() const;
  std::vector<TypeInfo> types() const;

  // One component from its YAML mapping (or bare type name), validated against its keys:
  //   auto opt = host.create<lamina::Optimizer>("{type: adam, lr: 0.01}");
  template <class T>
  std::unique_ptr<T> create(const std::string& yaml) const {
    return std::unique_ptr<T>(static_cast<T*>(create_erased(T::kind, yaml).release()));
  }

  // A model file (the `lamina train` format) with fresh weights initialized from its train.seed,
  // sized for samples of `sample_shape` (e.g. {784} or {1, 28, 28}); `overrides` as --set.
  Model load_model(const std::filesystem::path& model_yaml, const Shape& sample_shape,
                   std::span<const std::string> overrides = {}) const;
  // A trained run folder: its model.yaml and model.safetensors (the last complete epoch).
  Model load_run(const std::filesystem::path& run_dir) const;

 private:
  Registrar::Erased create_erased(Kind kind, const std::string& yaml) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A built network in inference form (Eval mode: running statistics, no dropout).
class LAMINA_EMBED_API Model {
 public:
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  const Shape& sample_shape() const;  // one input sample, e.g. (784)
  std::int64_t classes() const;       // scores per sample
  // What raw input values are multiplied by before the first layer: the model's data.scale
  // (1/255 for 8-bit images), as `lamina predict` applies it.
  float input_scale() const;

  // x: N x sample_shape, already scaled. Returns N x classes raw scores.
  Tensor scores(const Tensor& x);
  // x: N x sample_shape, already scaled. Returns N x classes softmax probabilities.
  Tensor predict(const Tensor& x);
  // x: N x sample_shape of raw values (0..255 pixels); scaled by input_scale(), then predict().
  Tensor predict_raw(const Tensor& x);

 private:
  friend class Host;
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lamina::embed
