#include "runtime/commands.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <omp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>
#include <numeric>
#include <ostream>

#include "atomic_file.hpp"
#include "checkpoint.hpp"
#include "ensemble.hpp"
#include "lamina/abi.hpp"
#include "runtime/plugin_loader.hpp"
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
  Progress(std::ostream& out, fs::path dir, std::int64_t epochs, std::int64_t log_every, bool live,
           std::vector<EpochMetrics> history, std::string iterations, std::function<void()> checkpoint)
      : out_(out),
        dir_(std::move(dir)),
        epochs_(epochs),
        log_every_(log_every),
        live_(live),
        step_(steps_before(history, iterations)),
        iterations_(std::move(iterations)),
        history_(std::move(history)),
        checkpoint_(std::move(checkpoint)) {}

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
    // Metrics first, then the checkpoint: a kill between the two leaves a checkpoint one epoch
    // behind, and a resume redoes that epoch and rewrites its metrics line.
    detail::write_metrics(dir_, history_);
    write_iterations();
    checkpoint_();
    std::string line = fmt::format("epoch {:>{}}/{}  {}", m.epoch, std::to_string(epochs_).size(), epochs_,
                                   fmt_eval("train", m.train));
    if (m.penalty != 0) line += fmt::format(" penalty {:.4f}", m.penalty);
    if (m.validation) line += " | " + fmt_eval("val", *m.validation);
    line += " | " + fmt_eval("test", m.test) + fmt::format(" | {:.1f}s", m.seconds);
    out_ << line << std::endl;
  }

  const std::vector<EpochMetrics>& history() const { return history_; }

  // A resumed run counts steps on from the last line of iterations.csv it kept.
  static std::int64_t steps_before(const std::vector<EpochMetrics>& history, const std::string& iterations) {
    if (history.empty() || iterations.empty()) return 0;
    const auto start = iterations.rfind('\n', iterations.size() - 2);
    const std::string last = iterations.substr(start == std::string::npos ? 0 : start + 1);
    return std::stoll(last.substr(0, last.find(',')));
  }

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
  std::function<void()> checkpoint_;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

void write_run_info(const fs::path& dir, const TrainRequest& req, const Model& model, const PluginLoader& loader,
                    const std::vector<EpochMetrics>& history, double total_seconds, const std::string& status,
                    const nlohmann::ordered_json& failure = {}) {
  nlohmann::ordered_json j;
  j["lamina_version"] = LAMINA_VERSION_STRING;
  j["model"] = req.model.string();
  j["name"] = model.name;
  j["status"] = status;
  if (!failure.is_null()) j["diverged"] = failure;
  j["threads"] = omp_get_max_threads();  // per rank
  j["ranks"] = req.cluster ? req.cluster->size() : 1;
  j["seed"] = model.train.seed;
  j["overrides"] = req.overrides;
  j["seconds_total"] = total_seconds;
  std::vector<double> per_epoch, training, allreduce;
  for (const auto& m : history) {
    per_epoch.push_back(m.seconds);
    training.push_back(m.train_seconds);
    allreduce.push_back(m.allreduce_seconds);
  }
  j["seconds_per_epoch"] = per_epoch;
  j["train_seconds_per_epoch"] = training;  // the batches alone, without the evaluation passes
  // Data-parallel: rank 0's wait in the gradient allreduce, part of train_seconds_per_epoch.
  if (req.cluster && req.cluster->size() > 1) j["allreduce_seconds_per_epoch"] = allreduce;
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

namespace {

std::vector<EpochMetrics> read_history(const fs::path& dir, std::int64_t epochs) {
  std::vector<EpochMetrics> history;
  std::ifstream in(dir / "metrics.json");
  if (!in) return history;
  try {
    const auto j = nlohmann::json::parse(in);
    for (const auto& e : j.at("epochs")) {
      if (e.at("epoch").get<std::int64_t>() > epochs) break;
      EpochMetrics m;
      m.epoch = e.at("epoch").get<std::int64_t>();
      m.train = {e.at("train").at("loss").get<double>(), e.at("train").at("accuracy").get<double>()};
      m.penalty = e.at("penalty").get<double>();
      if (e.contains("validation")) {
        m.validation =
            Evaluation{e["validation"].at("loss").get<double>(), e["validation"].at("accuracy").get<double>()};
      }
      m.test = {e.at("test").at("loss").get<double>(), e.at("test").at("accuracy").get<double>()};
      history.push_back(m);
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not a metrics file: {}", (dir / "metrics.json").string(), e.what()));
  }
  return history;
}

// The lines of iterations.csv (without its header) of the epochs a resumed run keeps.
std::string read_iterations(const fs::path& dir, std::int64_t epochs) {
  std::ifstream in(dir / "iterations.csv");
  std::string line, kept;
  if (!in || !std::getline(in, line)) return kept;
  while (std::getline(in, line)) {
    const auto a = line.find(','), b = line.find(',', a + 1);
    if (a == std::string::npos || b == std::string::npos) break;
    try {
      if (std::stoll(line.substr(0, a)) <= 0 || std::stoll(line.substr(a + 1, b - a - 1)) > epochs) break;
    } catch (const std::exception&) {
      throw InputError(
          fmt::format("{}: not a per-step loss file (line '{}')", (dir / "iterations.csv").string(), line));
    }
    kept += line + "\n";
  }
  return kept;
}

}  // namespace

// The resolved model text with data.scale set (the shortest text that reads back as `scale`).
static std::string with_data_scale(const std::string& resolved_yaml, float scale) {
  YAML::Node root = YAML::Load(resolved_yaml);
  root["data"]["scale"] = fmt::format("{}", scale);
  YAML::Emitter emitter;
  emitter << root;
  return std::string(emitter.c_str()) + "\n";
}

TrainResult run_train(const TrainRequest& req, std::ostream& out) {
  set_threads(req.threads);
  // Data-parallel across the ranks of an MPI job; every rank runs this function.
  Cluster* cluster = req.cluster && req.cluster->size() > 1 ? req.cluster : nullptr;
  const bool leader = !cluster || cluster->rank() == 0;
  // A set-up step that may fail on one rank only (a file it cannot read) must fail on all.
  auto together = [&](const std::function<void()>& step) { cluster ? cluster->agree(step) : step(); };

  Registry registry;
  PluginLoader loader(registry, req.plugins);
  const fs::path model_file = req.resume ? *req.resume / "model.yaml" : req.model;
  std::optional<Model> built;
  std::optional<DataSplits> loaded;
  std::optional<Trainer> made;
  // Everything that can be wrong with the input is found before the run folder exists.
  together([&] {
    loader.load_search_path();
    if (req.resume && !fs::exists(model_file)) {
      throw InputError(fmt::format("--resume {}: not a run folder (no model.yaml)", req.resume->string()));
    }
    ModelFile file = ModelFile::load(model_file, req.overrides);
    built.emplace(build_model(file, registry));
    loaded.emplace(load_data(built->data, built->train.seed));
    // The input scaling is part of the model: written out, so that eval and predict feed any
    // input exactly as training did.
    if (!built->data.scale) {
      built->data.scale = loaded->scale;
      built->resolved_yaml = with_data_scale(built->resolved_yaml, loaded->scale);
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
            fmt::format("--resume {}: the run already has {} of {} epochs; pass --epochs N to train longer",
                        result.run_dir.string(), done, model.train.epochs));
      }
      history = read_history(result.run_dir, done);
      iterations = read_iterations(result.run_dir, done);
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

  const auto start = std::chrono::steady_clock::now();
  Progress progress(out, result.run_dir, model.train.epochs, model.train.log_every,
                    req.progress && ::isatty(STDERR_FILENO), history, iterations,
                    [&] { detail::save_checkpoint(result.run_dir, model, trainer); });
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
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
    write_run_info(result.run_dir, req, model, loader, progress.history(), seconds(), "diverged",
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
  write_run_info(result.run_dir, req, model, loader, result.epochs, seconds(), "finished");
  out << fmt::format("test accuracy: {:.4f}", result.epochs.back().test.accuracy) << std::endl;
  return result;
}

void run_eval(const EvalRequest& req, std::ostream& out, std::ostream& err) {
  if (req.runs.empty()) throw InputError("name at least one run folder");
  set_threads(req.threads);
  Registry registry;
  PluginLoader loader(registry, req.plugins);
  loader.load_search_path();
  struct Member {
    fs::path dir;
    Model model;
  };
  std::vector<Member> members;
  for (const auto& dir : req.runs) {
    if (!fs::exists(dir / "model.yaml"))
      throw InputError(fmt::format("{}: not a run folder (no model.yaml)", dir.string()));
    detail::recover_checkpoint(dir);
    for (const auto& w : detail::check_manifest(dir, registry)) err << dir.string() << ": " << w << std::endl;
    members.push_back({dir, build_model(ModelFile::load(dir / "model.yaml", req.overrides), registry)});
  }
  // Every member is evaluated on the first member's test data.
  DataSplits data = load_data(members[0].model.data, members[0].model.train.seed);
  for (auto& m : members) {
    build_network(m.model, data);
    detail::load_weights(m.dir, m.model);
    Trainer trainer(m.model, data);
    const Evaluation e = trainer.evaluate(data.test);
    out << fmt::format("{}: test loss {:.6f} accuracy {:.6f}", m.dir.string(), e.loss, e.accuracy) << std::endl;
  }
  if (members.size() < 2) return;
  // The ensemble averages the members' softmax probabilities, sample by sample.
  const std::size_t n = data.test.size();
  std::vector<std::uint32_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0u);
  Tensor x;
  std::vector<std::int32_t> labels;
  data.test.batch(rows, x, labels);
  std::vector<double> avg;
  std::int64_t classes = 0;
  for (auto& m : members) {
    Rng rng(0);
    Context ctx{Mode::Eval, &rng, false};
    const Tensor& scores = m.model.network.forward(x, ctx);
    if (classes == 0) {
      classes = scores.cols();
      avg.assign(static_cast<std::size_t>(scores.size()), 0.0);
    }
    if (scores.cols() != classes) {
      throw InputError(fmt::format("{}: its model gives {} scores per sample, the first member's {}", m.dir.string(),
                                   scores.cols(), classes));
    }
    detail::add_softmax(scores, 1.0 / static_cast<double>(members.size()), avg.data());
  }
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double* row = avg.data() + i * static_cast<std::size_t>(classes);
    correct += std::max_element(row, row + classes) - row == labels[i];
  }
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
    out << fmt::format("  {} {}  {}\n    file {} (owner {}, mode {})\n    from the {}\n    types: {}\n", p.name,
                       p.version, p.description, p.file.string(), owner, mode, p.origin, types);
  }
}

}  // namespace

void run_plugins(const PluginsRequest& req, std::ostream& out) {
  Registry registry;
  PluginLoader loader(registry, req.plugins);
  loader.load_search_path();
  if (req.type.empty()) {
    std::size_t w = 4;
    for (const auto* t : registry.list()) w = std::max(w, t->name.size());
    for (Kind kind : kAllKinds) {
      bool header = false;
      for (const auto* t : registry.list()) {
        if (t->kind != kind) continue;
        if (!header)
          out << fmt::format("{}:\n", kind == Kind::Loss     ? std::string("losses")
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
  }
}

}  // namespace lamina
