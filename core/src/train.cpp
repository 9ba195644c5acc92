// `lamina train`: a model file, or a run folder to resume, trained into a run folder.
#include <fmt/format.h>
#include <omp.h>

#include <cmath>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <ostream>

#include "atomic_file.hpp"
#include "checkpoint.hpp"
#include "init_from.hpp"
#include "console_progress.hpp"
#include "live_marker.hpp"
#include "run_folder.hpp"
#include "run_writer.hpp"
#include "runtime/commands.hpp"
#include "runtime/plugin_loader.hpp"
#include "serve/beside.hpp"
#include "session.hpp"
#include "stop_signals.hpp"

namespace fs = std::filesystem;

namespace lamina {

TrainResult run_train(const TrainRequest& request, std::ostream& out) {
  if (request.epochs && *request.epochs < 1) throw RequestError("--epochs must be at least 1");
  if (request.seed && *request.seed < 0) throw RequestError("--seed must be >= 0");
  set_threads(request.threads);
  const auto dashboard =
      detail::dashboard_beside(request.serve, request.cluster, request.plugins, dashboard_root(request), out);
  // --epochs and --seed are overrides of the model file, applied last.
  TrainRequest req = request;
  if (req.epochs) req.overrides.push_back("train.epochs=" + std::to_string(*req.epochs));
  if (req.seed) req.overrides.push_back("train.seed=" + std::to_string(*req.seed));
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
    ModelFile file = req.model_text && !req.resume ? ModelFile::parse(*req.model_text, req.model.string(), req.overrides)
                                                   : ModelFile::load(model_file, req.overrides);
    built.emplace(build_model(file, registry));
    // A resumed run reads its data as it first did (a vocabulary the source built then).
    if (req.resume) detail::restore_source_state(*built, *req.resume / "model.safetensors");
    loaded.emplace(load_data(built->data, built->train.seed));
    // The input scaling is part of the model: written out, so that eval and predict feed any
    // input exactly as training did.
    if (!built->data.scale) {
      // Rebuilt with the key set, so model.yaml is the text a resume of it resolves to.
      const std::string scale = fmt::format("data.scale={}", loaded->scale);
      built.emplace(build_model(file.with(std::span(&scale, 1)), registry));
    }
    built->data_state = loaded->data_state;
    build_network(*built, *loaded);
    check_watched(*built, *loaded);
    made.emplace(*built, *loaded, TrainerOptions{true, cluster});
    // A new run starts from init_from's weights, when the model names a run; a resume from a
    // checkpoint loads every tensor from it instead (below), and is exact without that run.
    if (!req.resume) detail::init_from_run(*built, leader ? &out : nullptr);
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
      } else {
        detail::init_from_run(model, leader ? &out : nullptr);
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
  const detail::RunInfo run_info{req.model, req.overrides, cluster ? cluster->size() : 1, data.class_names};
  const auto start = std::chrono::steady_clock::now();
  detail::RunWriter writer(result.run_dir, model.train.log_every, history, iterations, [&](const EpochMetrics& m) {
    // The best weights first: a kill between the two redoes the epoch on resume.
    if (m.best) detail::save_best(result.run_dir, model, m.epoch);
    detail::save_checkpoint(result.run_dir, model, trainer);
  }, metric_names(model));
  detail::ConsoleProgress console(out, model.train.epochs, req.progress && ::isatty(STDERR_FILENO));
  std::vector<TrainObserver*> observers{&writer, &console};
  if (req.observer) observers.push_back(req.observer);
  detail::Observers progress(observers, [&] {
    return detail::StopSignals::raised() || (req.observer && req.observer->should_stop());
  });
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  // Ctrl-C or SIGTERM: the run stops at its last finished epoch (the epoch in progress is redone
  // by a resume). One process only: under MPI every rank would have to stop at the same batch.
  const detail::StopSignals interrupt({SIGINT, SIGTERM}, cluster == nullptr);
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
    detail::write_metrics(result.run_dir, writer.history(), writer.metric_names());
    writer.write_iterations();
    detail::write_run_info(result.run_dir, run_info, model, loader, writer.history(), seconds(), "diverged",
                   {{"epoch", e.epoch}, {"batch", e.batch}, {"loss", fmt::format("{}", e.loss)}});
    const std::size_t kept = writer.history().size();
    throw Diverged(fmt::format("{}; {} in {}", e.what(),
                               kept == 0 ? std::string("no epoch had finished (run.json records the failure)")
                                         : fmt::format("the metrics of the {} finished epoch{} are kept", kept,
                                                       kept == 1 ? "" : "s"),
                               result.run_dir.string()),
                   e.epoch, e.batch, e.loss);
  } catch (const Error&) {
    // Bad input found only by running (a plugin that throws in forward): with no epoch finished
    // the run folder holds nothing of value, and leaving it would look like a run.
    if (leader && writer.history().empty() && !req.resume) {
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
  result.epochs = writer.history();
  if (!leader) return result;
  if (detail::StopSignals::raised() || (req.observer && req.observer->should_stop())) {
    result.interrupted = true;
    detail::write_run_info(result.run_dir, run_info, model, loader, result.epochs, seconds(), "interrupted");
    const std::int64_t done = result.epochs.empty() ? trainer.state().epoch : result.epochs.back().epoch;
    out << fmt::format("\ninterrupted after epoch {} of {}; `lamina train --resume {}` continues", done,
                       model.train.epochs, result.run_dir.string())
        << std::endl;
    return result;
  }
  detail::write_run_info(result.run_dir, run_info, model, loader, result.epochs, seconds(), "finished");
  const Evaluation& test = result.epochs.back().test;
  // The first metric, as the run's headline ("test accuracy: 0.8632"); the loss without one.
  out << (test.metrics.empty() ? fmt::format("test loss: {:.4f}", test.loss)
                               : fmt::format("test {}: {:.4f}", test.metrics[0].first, test.metrics[0].second))
      << std::endl;
  return result;
}

}  // namespace lamina
