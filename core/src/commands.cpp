#include "lamina/commands.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "atomic_file.hpp"
#include "lamina/abi.hpp"
#include "lamina/plugin_loader.hpp"
#include "run_folder.hpp"
#include "suggest.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace {

std::string fmt_eval(const char* label, const Evaluation& e) {
  return fmt::format("{} loss {:.4f} acc {:.4f}", label, e.loss, e.accuracy);
}

// One line per epoch on `out`; on a terminal, a live bar on stderr redrawn at most 10 times a
// second (throttled so that printing never costs measurable training time).
class Progress : public TrainObserver {
 public:
  Progress(std::ostream& out, fs::path dir, std::int64_t epochs, std::int64_t log_every, bool live)
      : out_(out), dir_(std::move(dir)), epochs_(epochs), log_every_(log_every), live_(live) {}

  void on_batch(std::int64_t epoch, std::int64_t batch, std::int64_t batches, float loss) override {
    ++step_;
    if (log_every_ > 0 && step_ % log_every_ == 0) {
      iterations_ += fmt::format("{},{},{:.6f}\n", step_, epoch, loss);
    }
    if (!live_) return;
    const auto now = std::chrono::steady_clock::now();
    if (batch == 1) epoch_start_ = now;
    if (batch != batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
    const double eta = batch > 0 ? elapsed * static_cast<double>(batches - batch) / static_cast<double>(batch) : 0;
    const int width = 24;
    const int filled = static_cast<int>(width * batch / batches);
    fmt::print(stderr, "\r\033[Kepoch {}/{} [{}{}] {}/{} loss {:.4f} eta {:.0f}s", epoch, epochs_,
               std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(width - filled), '.'), batch, batches, loss, eta);
    std::fflush(stderr);
  }

  void on_epoch(const EpochMetrics& m) override {
    if (live_) fmt::print(stderr, "\r\033[K");
    history_.push_back(m);
    detail::write_metrics(dir_, history_);
    write_iterations();
    std::string line = fmt::format("epoch {:>{}}/{}  {}", m.epoch, std::to_string(epochs_).size(), epochs_,
                                   fmt_eval("train", m.train));
    if (m.penalty != 0) line += fmt::format(" penalty {:.4f}", m.penalty);
    if (m.validation) line += " | " + fmt_eval("val", *m.validation);
    line += " | " + fmt_eval("test", m.test) + fmt::format(" | {:.1f}s", m.seconds);
    out_ << line << std::endl;
  }

  const std::vector<EpochMetrics>& history() const { return history_; }

  // The per-step losses (train.log_every), rewritten with each epoch and on divergence.
  void write_iterations() const {
    if (log_every_ > 0) detail::write_file_atomic(dir_ / "iterations.csv", "step,epoch,loss\n" + iterations_);
  }

 private:
  std::ostream& out_;
  fs::path dir_;
  std::int64_t epochs_;
  std::int64_t log_every_;
  bool live_;
  std::int64_t step_ = 0;
  std::string iterations_;
  std::vector<EpochMetrics> history_;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

void write_run_info(const fs::path& dir, const TrainRequest& req, const Model& model, const PluginLoader& loader,
                    const std::vector<EpochMetrics>& history, double total_seconds, const std::string& status) {
  nlohmann::ordered_json j;
  j["lamina_version"] = LAMINA_VERSION_STRING;
  j["model"] = req.model.string();
  j["name"] = model.name;
  j["status"] = status;
  j["threads"] = omp_get_max_threads();
  j["seed"] = model.train.seed;
  j["overrides"] = req.overrides;
  j["seconds_total"] = total_seconds;
  std::vector<double> per_epoch;
  for (const auto& m : history) per_epoch.push_back(m.seconds);
  j["seconds_per_epoch"] = per_epoch;
  nlohmann::ordered_json plugins = nlohmann::ordered_json::array();
  for (const auto& p : loader.loaded())
    plugins.push_back({{"name", p.name}, {"version", p.version}, {"file", p.file.string()}});
  j["plugins"] = plugins;
  detail::write_file_atomic(dir / "run.json", j.dump(2) + "\n");
}

}  // namespace

void set_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

void load_plugins(Registry& registry, const std::vector<fs::path>& plugin_dirs) {
  PluginLoader loader(registry);
  loader.load_search_path(plugin_dirs);
}

TrainResult run_train(const TrainRequest& req, std::ostream& out) {
  set_threads(req.threads);
  Registry registry;
  PluginLoader loader(registry);
  loader.load_search_path(req.plugin_dirs);

  // Everything that can be wrong with the input is found before the run folder exists.
  ModelFile file = ModelFile::load(req.model, req.overrides);
  Model model = build_model(file, registry);
  DataSplits data = load_data(model.data, model.train.seed);
  build_network(model, data);

  TrainResult result;
  result.run_dir = detail::create_run_dir(model.name, req.out ? &*req.out : nullptr);
  detail::write_file_atomic(result.run_dir / "model.yaml", model.resolved_yaml);
  out << fmt::format("training {} ({} parameters) on {} samples{}, testing on {}; {} thread{}; run folder {}",
                     model.name, model.network.parameter_count(), data.train.size(),
                     data.validation.empty() ? "" : fmt::format(" (+{} validation)", data.validation.size()),
                     data.test.size(), omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s",
                     result.run_dir.string())
      << std::endl;

  const auto start = std::chrono::steady_clock::now();
  Progress progress(out, result.run_dir, model.train.epochs, model.train.log_every,
                    req.progress && ::isatty(STDERR_FILENO));
  Trainer trainer(model, data);
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  try {
    result.epochs = trainer.run(&progress);
  } catch (const Diverged& e) {
    progress.write_iterations();
    write_run_info(result.run_dir, req, model, loader, progress.history(), seconds(), "diverged");
    throw Diverged(fmt::format("{}; the metrics of the {} finished epoch(s) are in {}", e.what(),
                               progress.history().size(), (result.run_dir / "metrics.csv").string()));
  }
  write_run_info(result.run_dir, req, model, loader, result.epochs, seconds(), "finished");
  out << fmt::format("test accuracy: {:.4f}", result.epochs.back().test.accuracy) << std::endl;
  return result;
}

void run_plugins(const PluginsRequest& req, std::ostream& out) {
  Registry registry;
  PluginLoader loader(registry);
  loader.load_search_path(req.plugin_dirs);
  if (req.type.empty()) {
    std::size_t w = 4;
    for (const auto* t : registry.list()) w = std::max(w, t->name.size());
    for (Kind kind : kAllKinds) {
      bool header = false;
      for (const auto* t : registry.list()) {
        if (t->kind != kind) continue;
        if (!header)
          out << fmt::format("{}:\n", kind == Kind::Loss ? std::string("losses") : std::string(kind_name(kind)) + "s");
        header = true;
        out << fmt::format("  {:<{}}  {}  [{} {}, {}]\n", t->name, w, t->summary, t->provider.plugin,
                           t->provider.version, t->provider.file);
      }
    }
    out << fmt::format("{} plugins loaded; `lamina plugins info TYPE` shows a type's keys\n", loader.loaded().size());
    return;
  }
  const auto found = registry.find_all(req.type);
  if (found.empty()) {
    std::vector<std::string> all;
    for (const auto* t : registry.list()) all.push_back(t->name);
    throw InputError(fmt::format("lamina plugins info: no type named '{}'{}; `lamina plugins` lists them", req.type,
                                 detail::did_you_mean(req.type, all)));
  }
  for (const auto* t : found) {
    out << fmt::format("{} {} — {}\n  from plugin {} {} ({})\n", kind_name(t->kind), t->name, t->summary,
                       t->provider.plugin, t->provider.version, t->provider.file);
    if (t->keys.empty()) out << "  keys: none\n";
    for (const auto& k : t->keys) {
      out << fmt::format("  {:<14} {:<9} {:<12} {}\n", k.name(), key_type_name(k.type()),
                         k.is_required()    ? "(required)"
                         : k.default_text() ? "= " + *k.default_text()
                                            : "(optional)",
                         k.doc());
      out << fmt::format("  {:<14} {:<9} {:<12} expects {}\n", "", "", "", k.expectation());
    }
  }
}

}  // namespace lamina
