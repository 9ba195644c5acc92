// The embedding API over the runtime: a Session (registry + plugins), open_run and the model
// builder, the same code paths `lamina predict` takes.
#include "lamina/embed.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "checkpoint.hpp"
#include "config_impl.hpp"
#include "lamina/context.hpp"
#include "lamina/error.hpp"
#include "lamina/softmax.hpp"
#include "run_folder.hpp"
#include "runtime/dataset.hpp"
#include "runtime/model.hpp"
#include "runtime/safetensors.hpp"
#include "session.hpp"

namespace fs = std::filesystem;

namespace lamina::embed {

struct Host::Impl {
  explicit Impl(PluginOptions options) : session(std::move(options)) {}
  detail::Session session;
};

struct Model::Impl {
  lamina::Model model;
  float scale = 1.0f;
  std::int64_t classes = 0;
  Rng rng{0};
  Tensor scaled;
};

Host::Host(const HostOptions& options) {
  PluginOptions p;
  p.dirs = options.plugin_dirs;
  p.allow_writable = options.allow_writable_plugins;
  impl_ = std::make_unique<Impl>(p);
  if (options.builtin_plugins) {
    impl_->session.load();
  } else {
    for (const auto& d : options.plugin_dirs) impl_->session.loader.load_directory(d, "--plugin-dir");
  }
}
Host::~Host() = default;
Host::Host(Host&&) noexcept = default;
Host& Host::operator=(Host&&) noexcept = default;

std::vector<PluginInfo> Host::plugins() const {
  std::vector<PluginInfo> out;
  for (const auto& p : impl_->session.loader.loaded()) out.push_back({p.name, p.version, p.file.string()});
  return out;
}

std::vector<TypeInfo> Host::types() const {
  std::vector<TypeInfo> out;
  for (const auto* t : impl_->session.registry.list()) out.push_back({t->kind, t->name, t->summary, t->provider.plugin});
  return out;
}

Registrar::Erased Host::create_erased(Kind kind, const std::string& yaml) const {
  const Config spec = Config::parse(yaml, "<embed>");
  return impl_->session.registry.create_erased(kind, spec, {});
}

namespace {

std::int64_t classes_of(lamina::Model& m) {
  Tensor probe(m.network.input_shape().batched(1));
  Rng rng(0);
  Context ctx{Mode::Eval, &rng, false};
  return m.network.forward(probe, ctx).cols();
}

}  // namespace

Model Host::load_model(const fs::path& model_yaml, const Shape& sample_shape,
                       std::span<const std::string> overrides) const {
  auto impl = std::make_unique<Model::Impl>();
  impl->model = build_model(ModelFile::load(model_yaml, overrides), impl_->session.registry);
  DataSplits shape_only;
  shape_only.sample_shape = sample_shape;
  build_network(impl->model, shape_only);
  impl->scale = impl->model.data.scale ? *impl->model.data.scale : trained_scale(impl->model.data);
  impl->classes = classes_of(impl->model);
  return Model(std::move(impl));
}

Model Host::load_run(const fs::path& run_dir) const {
  std::ostringstream warnings;  // version differences that only warn; a host has no stderr of ours
  detail::TrainedRun run = detail::open_run(run_dir, impl_->session.registry, {}, warnings);
  detail::size_and_load(run, detail::trained_input_shape(run_dir / "model.safetensors", "use Host::load_model with the shape"),
                        run_dir.string());
  auto impl = std::make_unique<Model::Impl>();
  impl->model = std::move(run.model);
  impl->scale = trained_scale(impl->model.data);
  impl->classes = classes_of(impl->model);
  return Model(std::move(impl));
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const Shape& Model::sample_shape() const { return impl_->model.network.input_shape(); }
std::int64_t Model::classes() const { return impl_->classes; }
float Model::input_scale() const { return impl_->scale; }

Tensor Model::scores(const Tensor& x) {
  const Shape& s = sample_shape();
  bool fits = x.rank() == s.rank() + 1;
  for (int i = 0; fits && i < s.rank(); ++i) fits = x.dim(i + 1) == s[i];
  if (!fits || x.dim(0) < 1) {
    throw InputError(fmt::format("input of shape {} does not fit the model: it takes N x {}", x.shape().str(),
                                 s.str()));
  }
  Context ctx{Mode::Eval, &impl_->rng, false};
  return impl_->model.network.forward(x, ctx).clone();
}

Tensor Model::predict(const Tensor& x) {
  Tensor p = scores(x);
  const std::int64_t c = p.cols();
  std::vector<double> e(static_cast<std::size_t>(c));
  for (std::int64_t i = 0; i < p.rows(); ++i) {
    float* row = p.data() + i * c;
    const double z = softmax_exponentials<double>(row, c, e.data()).sum;
    for (std::int64_t j = 0; j < c; ++j) row[j] = static_cast<float>(e[static_cast<std::size_t>(j)] / z);
  }
  return p;
}

Tensor Model::predict_raw(const Tensor& x) {
  impl_->scaled.copy_from(x);
  for (auto& v : impl_->scaled.values()) v *= impl_->scale;
  return predict(impl_->scaled);
}

}  // namespace lamina::embed
