#include "runtime/commands.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <omp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <ostream>

#include "atomic_file.hpp"
#include "live_marker.hpp"
#include "checkpoint.hpp"
#include "ensemble.hpp"
#include "lamina/abi.hpp"
#include "runtime/plugin_loader.hpp"
#include "run_folder.hpp"
#include "session.hpp"
#include "suggest.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace {

std::string fmt_eval(const char* label, const Evaluation& e) {
  return fmt::format("{} loss {:.4f} acc {:.4f}", label, e.loss, e.accuracy);
}

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) { g_interrupted.store(true); }

// Ctrl-C (SIGINT) or SIGTERM during training: the handler only sets a flag, which the progress
// observer reads after each batch; the run then stops at its last finished epoch (the epoch in
// progress is redone by a resume). Installed for one process only: under MPI every rank would
// have to stop at the same batch, so a job keeps the signals' default.
class InterruptStop {
 public:
  explicit InterruptStop(bool install) : installed_(install) {
    g_interrupted.store(false);
    if (!installed_) return;
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptStop() {
    if (!installed_) return;
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptStop(const InterruptStop&) = delete;
  InterruptStop& operator=(const InterruptStop&) = delete;

 private:
  bool installed_;
  struct sigaction old_int_ {}, old_term_ {};
};

// One line per epoch on `out`; on a terminal, a live bar on stderr redrawn at most 10 times a
// second (throttled so that printing never costs measurable training time).
class Progress : public TrainObserver {
 public:
  Progress(std::ostream& out, fs::path dir, std::int64_t epochs, std::int64_t log_every, bool live,
           std::vector<EpochMetrics> history, std::string iterations,
           std::function<void(const EpochMetrics&)> checkpoint)
      : out_(out),
        dir_(std::move(dir)),
        epochs_(epochs),
        log_every_(log_every),
        live_(live),
        iterations_(std::move(iterations)),
        history_(std::move(history)),
        checkpoint_(std::move(checkpoint)) {}

  void on_batch(std::int64_t epoch, std::int64_t batch, std::int64_t batches, float loss) override {
    // Every epoch has the same number of batches, so the step follows from where we are; a
    // resumed run whose epochs are not a multiple of log_every steps numbers them as the whole
    // run did (counting on from the last logged line did not).
    const std::int64_t step = (epoch - 1) * batches + batch;
    if (log_every_ > 0 && step % log_every_ == 0) {
      iterations_ += fmt::format("{},{},{:.6f}\n", step, epoch, loss);
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
    // Metrics first, then the checkpoint: a kill between the two leaves a checkpoint one epoch
    // behind, and a resume redoes that epoch and rewrites its metrics line.
    detail::write_metrics(dir_, history_);
    write_iterations();
    checkpoint_(m);
    std::string line = fmt::format("epoch {:>{}}/{}  {}", m.epoch, std::to_string(epochs_).size(), epochs_,
                                   fmt_eval("train", m.train));
    if (m.penalty != 0) line += fmt::format(" penalty {:.4f}", m.penalty);
    if (m.validation) line += " | " + fmt_eval("val", *m.validation);
    line += " | " + fmt_eval("test", m.test) + fmt::format(" | {:.1f}s", m.seconds);
    if (m.best) line += " | best";
    out_ << line << std::endl;
    if (!m.stopped.empty()) out_ << fmt::format("stopped after epoch {}: {}", m.epoch, m.stopped) << std::endl;
  }

  const std::vector<EpochMetrics>& history() const { return history_; }
  bool should_stop() override { return g_interrupted.load(); }

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
  std::string iterations_;
  std::vector<EpochMetrics> history_;
  std::function<void(const EpochMetrics&)> checkpoint_;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

}  // namespace

void set_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}


TrainResult run_train(const TrainRequest& req, std::ostream& out) {
  set_threads(req.threads);
  // Data-parallel across the ranks of an MPI job; every rank runs this function.
  Cluster* cluster = req.cluster && req.cluster->size() > 1 ? req.cluster : nullptr;
  const bool leader = !cluster || cluster->rank() == 0;
  // A set-up step that may fail on one rank only (a file it cannot read) must fail on all.
  auto together = [&](const std::function<void()>& step) { cluster ? cluster->agree(step) : step(); };

  detail::Session session(req.plugins);
  Registry& registry = session.registry;
  PluginLoader& loader = session.loader;
  const fs::path model_file = req.resume ? *req.resume / "model.yaml" : req.model;
  std::optional<Model> built;
  std::optional<DataSplits> loaded;
  std::optional<Trainer> made;
  // A resumed run continues as it was trained: its model.yaml must keep reproducing it, so only
  // the epoch count may change (docs/errors.md, "Resuming").
  if (req.resume) {
    for (const auto& o : req.overrides) {
      const std::string key = o.substr(0, o.find('='));
      if (key == "train.epochs") continue;
      throw InputError(fmt::format("--resume {}: `{}` would change how the run trains, and its model.yaml would no "
                                   "longer reproduce it; only --epochs may change on resume (start a new run to "
                                   "train otherwise)",
                                   req.resume->string(), key == "train.seed" ? "--seed" : "--set " + o));
    }
  }
  // Everything that can be wrong with the input is found before the run folder exists.
  together([&] {
    loader.load_search_path();
    if (req.resume && !fs::exists(*req.resume)) {
      throw InputError(fmt::format("--resume {}: no such folder", req.resume->string()));
    }
    if (req.resume && !fs::exists(model_file)) {
      throw InputError(fmt::format("--resume {}: not a run folder (no model.yaml)", req.resume->string()));
    }
    ModelFile file = ModelFile::load(model_file, req.overrides);
    built.emplace(build_model(file, registry));
    loaded.emplace(load_data(built->data, built->train.seed));
    // The input scaling is part of the model: written out, so that eval and predict feed any
    // input exactly as training did.
    if (!built->data.scale) {
      // Rebuilt with the key set, so model.yaml is the text a resume of it resolves to.
      const std::string scale = fmt::format("data.scale={}", loaded->scale);
      built.emplace(build_model(file.with(std::span(&scale, 1)), registry));
    }
    build_network(*built, *loaded);
    made.emplace(*built, *loaded, TrainerOptions{true, cluster});
    // Ranks read the checkpoint only once rank 0 has finished an interrupted commit.
    if (req.resume && leader) detail::recover_checkpoint(*req.resume);
  });
  Model& model = *built;
  const DataSplits& data = *loaded;
  Trainer& trainer = *made;
  std::vector<EpochMetrics> history;
  std::string iterations;
  fs::path created_dir;  // what to remove if the run fails before anything worth keeping exists

  TrainResult result;
  together([&] {
    if (req.resume) {
      result.run_dir = *req.resume;
      // A run killed in its first epoch has no checkpoint: it starts again from its seed.
      if (detail::has_checkpoint(result.run_dir)) {
        const auto warnings = detail::check_manifest(result.run_dir, registry);
        if (leader) {
          for (const auto& w : warnings) std::cerr << w << std::endl;
        }
        detail::load_weights(result.run_dir, model);
        detail::load_training_state(result.run_dir, model, trainer);
      }
      const std::int64_t done = trainer.state().epoch;
      if (done >= model.train.epochs) {
        throw InputError(
            done == model.train.epochs
                ? fmt::format("--resume {}: the run already has all its {} epochs; pass --epochs N (N > {}) to train "
                              "longer",
                              result.run_dir.string(), done, done)
                : fmt::format("--resume {}: the run has {} epochs already, more than --epochs {}; pass --epochs N "
                              "(N > {}) to train longer",
                              result.run_dir.string(), done, model.train.epochs, done));
      }
      history = detail::read_history(result.run_dir, done);
      // Resuming rewrites metrics.csv from the history it read: one missing epochs would be lost.
      if (static_cast<std::int64_t>(history.size()) != done) {
        throw InputError(fmt::format("{}: holds {} of the {} epochs the checkpoint has done; resuming would lose the "
                                     "run's history (restore metrics.json, or start a new run)",
                                     (result.run_dir / "metrics.json").string(), history.size(), done));
      }
      iterations = detail::read_iterations(result.run_dir, done);
    } else if (leader) {
      const auto created = detail::create_run_dir(model.name, req.out ? &*req.out : nullptr);
      result.run_dir = created.path;
      created_dir = created.created;
    }
    if (leader) detail::write_file_atomic(result.run_dir / "model.yaml", model.resolved_yaml);
  });
  if (cluster) {
    std::string dir = result.run_dir.string();
    cluster->broadcast(dir);
    result.run_dir = dir;
  }
  if (req.resume)
    out << fmt::format("resuming {} after epoch {}", result.run_dir.string(), trainer.state().epoch) << std::endl;
  const std::string ranks = cluster ? fmt::format("{} ranks x ", cluster->size()) : "";
  out << fmt::format("training {} ({} parameters) on {} samples{}, testing on {}; {}{} thread{}; run folder {}",
                     model.name, model.network.parameter_count(), data.train.size(),
                     data.validation.empty() ? "" : fmt::format(" (+{} validation)", data.validation.size()),
                     data.test.size(), ranks, omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s",
                     result.run_dir.string())
      << std::endl;

  // While it trains, `.live` tells `lamina serve` that the run is in progress.
  const detail::LiveMarker live = leader ? detail::LiveMarker(result.run_dir) : detail::LiveMarker();
  const detail::RunInfo run_info{req.model, req.overrides, cluster ? cluster->size() : 1};
  const auto start = std::chrono::steady_clock::now();
  Progress progress(out, result.run_dir, model.train.epochs, model.train.log_every,
                    req.progress && ::isatty(STDERR_FILENO), history, iterations,
                    [&](const EpochMetrics& m) {
                      // The best weights first: a kill between the two redoes the epoch on resume.
                      if (m.best) detail::save_best(result.run_dir, model, m.epoch);
                      detail::save_checkpoint(result.run_dir, model, trainer);
                    });
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  const InterruptStop interrupt(cluster == nullptr);
  try {
    try {
      trainer.run(leader ? &progress : nullptr);  // rank 0 alone writes
    } catch (...) {
      if (cluster && trainer.failure_shared()) cluster->set_failure_shared();
      throw;
    }
  } catch (const Diverged& e) {
    if (!leader) throw;
    // The finished epochs' metrics and checkpoint stay as they were; run.json says where it broke.
    detail::write_metrics(result.run_dir, progress.history());
    progress.write_iterations();
    detail::write_run_info(result.run_dir, run_info, model, loader, progress.history(), seconds(), "diverged",
                   {{"epoch", e.epoch}, {"batch", e.batch}, {"loss", fmt::format("{}", e.loss)}});
    const std::size_t kept = progress.history().size();
    throw Diverged(fmt::format("{}; {} in {}", e.what(),
                               kept == 0 ? std::string("no epoch had finished (run.json records the failure)")
                                         : fmt::format("the metrics of the {} finished epoch{} are kept", kept,
                                                       kept == 1 ? "" : "s"),
                               result.run_dir.string()),
                   e.epoch, e.batch, e.loss);
  } catch (const Error&) {
    // Bad input found only by running (a plugin that throws in forward): with no epoch finished
    // the run folder holds nothing of value, and leaving it would look like a run.
    if (leader && progress.history().empty() && !req.resume) {
      std::error_code ec;
      if (!created_dir.empty()) {
        fs::remove_all(created_dir, ec);
      } else {
        for (const char* f : {"model.yaml", "metrics.csv", "metrics.json", "iterations.csv"})
          fs::remove(result.run_dir / f, ec);
      }
    }
    throw;
  }
  result.epochs = progress.history();
  if (!leader) return result;
  if (g_interrupted.load()) {
    result.interrupted = true;
    detail::write_run_info(result.run_dir, run_info, model, loader, result.epochs, seconds(), "interrupted");
    const std::int64_t done = result.epochs.empty() ? trainer.state().epoch : result.epochs.back().epoch;
    out << fmt::format("\ninterrupted after epoch {} of {}; `lamina train --resume {}` continues", done,
                       model.train.epochs, result.run_dir.string())
        << std::endl;
    return result;
  }
  detail::write_run_info(result.run_dir, run_info, model, loader, result.epochs, seconds(), "finished");
  out << fmt::format("test accuracy: {:.4f}", result.epochs.back().test.accuracy) << std::endl;
  return result;
}

void run_eval(const EvalRequest& req, std::ostream& out, std::ostream& err) {
  if (req.runs.empty()) throw InputError("name at least one run folder");
  set_threads(req.threads);
  detail::Session session(req.plugins);
  session.load();
  std::vector<detail::TrainedRun> members;
  for (const auto& dir : req.runs) members.push_back(detail::open_run(dir, session.registry, req.overrides, err));
  // Every member is evaluated on the first member's test data.
  DataSplits data = load_data(members[0].model.data, members[0].model.train.seed);
  for (auto& m : members) {
    build_network(m.model, data);
    detail::load_weights(m.dir, m.model, req.best);
    Trainer trainer(m.model, data);
    const Evaluation e = trainer.evaluate(data.test);
    out << fmt::format("{}: test loss {:.6f} accuracy {:.6f}", m.dir.string(), e.loss, e.accuracy) << std::endl;
  }
  if (members.size() < 2) return;
  const auto n = static_cast<std::int64_t>(data.test.size());
  std::vector<std::uint32_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0u);
  Tensor x;
  std::vector<std::int32_t> labels;
  data.test.batch(rows, x, labels);
  detail::Ensemble ensemble(members.size(), n);
  for (auto& m : members) {
    Rng rng(0);
    Context ctx{Mode::Eval, &rng, false};
    ensemble.add(m.dir, m.model.network.forward(x, ctx), 0);
  }
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i) correct += ensemble.predicted(i) == labels[static_cast<std::size_t>(i)];
  out << fmt::format("ensemble of {} (averaged probabilities): test accuracy {:.4f}", members.size(),
                     static_cast<double>(correct) / static_cast<double>(n))
      << std::endl;
}

namespace {

// Where each plugin came from, for judging what code a run executes.
void print_plugin_origins(const PluginLoader& loader, const Registry& registry, std::ostream& out) {
  out << "plugins, in load order:\n";
  for (const auto& p : loader.loaded()) {
    struct stat st {};
    std::string owner = "?", mode = "?";
    if (::stat(p.file.c_str(), &st) == 0) {
      const passwd* pw = ::getpwuid(st.st_uid);
      owner = pw ? pw->pw_name : std::to_string(st.st_uid);
      mode = fmt::format("{:04o}", static_cast<unsigned>(st.st_mode & 07777));
    }
    std::string types;
    for (const auto* t : registry.list()) {
      if (t->provider.file == p.file.string()) types += (types.empty() ? "" : ", ") + t->name;
    }
    out << fmt::format(
        "  {} {}  {}\n    file {} (owner {}, mode {})\n    from the {}\n    built against Lamina {}\n    types: {}\n",
        p.name, p.version, p.description, p.file.string(), owner, mode, p.origin, p.lamina_version, types);
  }
}

}  // namespace

void run_plugins(const PluginsRequest& req, std::ostream& out) {
  detail::Session session(req.plugins);
  session.load();
  Registry& registry = session.registry;
  PluginLoader& loader = session.loader;
  if (req.type.empty()) {
    std::size_t w = 4;
    for (const auto* t : registry.list()) w = std::max(w, t->name.size());
    // Merges are written in `layers:`: listed right after the layers.
    std::vector<Kind> order;
    for (Kind kind : kAllKinds) {
      if (kind == Kind::Merge) continue;
      order.push_back(kind);
      if (kind == Kind::Layer) order.push_back(Kind::Merge);
    }
    for (Kind kind : order) {
      bool header = false;
      for (const auto* t : registry.list()) {
        if (t->kind != kind) continue;
        if (!header)
          out << fmt::format("{}:\n", kind == Kind::Loss     ? std::string("losses")
                                      : kind == Kind::Merge  ? std::string("merges (layers with several inputs)")
                                      : kind == Kind::Search ? std::string("search strategies")
                                                             : std::string(kind_name(kind)) + "s");
        header = true;
        out << fmt::format("  {:<{}}  {}  [{} {}, {}]\n", t->name, w, t->summary, t->provider.plugin,
                           t->provider.version, t->provider.file);
      }
    }
    if (req.verbose) print_plugin_origins(loader, registry, out);
    out << fmt::format("{} plugins loaded; `lamina plugins info TYPE` shows a type's keys\n", loader.loaded().size());
    return;
  }
  const auto found = registry.find_all(req.type);
  if (found.empty()) {
    std::vector<std::string> all;
    for (const auto* t : registry.list()) all.push_back(t->name);
    throw InputError(fmt::format("no type named '{}'{}; `lamina plugins` lists them", req.type,
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
    if (t->kind == Kind::DataSource) {
      out << fmt::format("  and, as every data source under `data:`, {} (README, YAML reference)\n",
                         detail::join(shared_data_keys()));
    }
    if (t->kind == Kind::Layer || t->kind == Kind::Merge) {
      out << fmt::format("  and, as every entry of `layers:`, name, inputs{} and regularizer (README, \"Layers: "
                         "names and inputs\")\n",
                         t->kind == Kind::Merge ? " (required: the layers it merges)" : "");
    }
  }
}

}  // namespace lamina
