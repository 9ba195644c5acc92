#include "run_folder.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>


#include <unistd.h>

#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include <omp.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <ostream>

#include "atomic_file.hpp"
#include "checkpoint.hpp"
#include "lamina/version.hpp"
#include "lamina/error.hpp"
#include "runtime/safetensors.hpp"
#include "runtime/plugin_guard.hpp"
#include "lamina/source_state.hpp"

namespace fs = std::filesystem;

namespace lamina::detail {

// The topmost of `dir` and its ancestors that does not exist yet.
fs::path first_missing(const fs::path& dir) {
  std::error_code ec;
  fs::path missing;
  for (fs::path p = fs::absolute(dir, ec); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing = p;
    if (p == p.parent_path()) break;
  }
  return missing;
}

// Every name a run writes in its folder (checkpoint.hpp's set included).
constexpr const char* kRunFiles[] = {"model.yaml",        "run.json",          "metrics.csv",
                                     "metrics.json",      "iterations.csv",    "model.safetensors",
                                     "optimizer.safetensors", "trainer.json",  "model-best.safetensors",
                                     ".live",             "checkpoint.next",   "checkpoint.commit"};

RunDir create_run_dir(const std::string& model_name, const fs::path* out) {
  std::error_code ec;
  if (out != nullptr) {
    if (fs::exists(*out / "metrics.csv", ec)) {
      throw InputError(
          fmt::format("--out {}: the folder already holds a run (metrics.csv); choose another folder", out->string()));
    }
    // The folder may exist (an empty one made for the run) but must hold nothing the run writes:
    // `--out .` beside the user's own model.yaml would replace it.
    for (const char* name : kRunFiles) {
      if (fs::symlink_status(*out / name, ec).type() != fs::file_type::not_found) {
        throw InputError(fmt::format("--out {}: the folder already holds {}, which the run would overwrite; choose "
                                     "a new or empty folder",
                                     out->string(), name));
      }
    }
    const fs::path created = first_missing(*out);
    fs::create_directories(*out, ec);
    if (ec || !fs::is_directory(*out)) {
      throw InputError(fmt::format("--out {}: cannot create the run folder: {}", out->string(), ec.message()));
    }
    if (::access(out->c_str(), W_OK) != 0) {
      throw InputError(fmt::format("--out {}: the folder is not writable", out->string()));
    }
    return {*out, created};
  }
  const std::time_t now = std::time(nullptr);
  const std::string stamp = fmt::format("{:%Y%m%d-%H%M%S}", fmt::localtime(now));
  const fs::path runs_created = first_missing("runs");
  fs::create_directories("runs", ec);
  if (ec) throw InputError(fmt::format("runs/: cannot create the runs folder: {}", ec.message()));
  for (int k = 1;; ++k) {
    fs::path dir = fs::path("runs") /
                   (k == 1 ? fmt::format("{}-{}", model_name, stamp) : fmt::format("{}-{}-{}", model_name, stamp, k));
    // create_directory is the atomic claim: two runs started in the same second get two folders.
    if (fs::create_directory(dir, ec)) return {dir, runs_created.empty() ? fs::absolute(dir) : runs_created};
    if (ec) throw InputError(fmt::format("{}: cannot create the run folder: {}", dir.string(), ec.message()));
  }
}

namespace {

// A metric that is undefined on a split (R² of a constant target) is NaN: an empty cell, a null.
std::string cell(double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6f}", v); }

nlohmann::ordered_json evaluation_json(const Evaluation& e) {
  nlohmann::ordered_json j = {{"loss", e.loss}};
  for (const auto& [name, v] : e.metrics) j[name] = std::isnan(v) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v);
  return j;
}

// A split's loss and metrics; a metric's null is NaN. An older run's "accuracy": null (a
// regression run before metrics were plugins) reads as no metric.
Evaluation evaluation_of(const nlohmann::json& e) {
  Evaluation out{e.at("loss").get<double>(), {}};
  for (const auto& [key, v] : e.items()) {
    if (key == "loss") continue;
    if (v.is_null() && key == "accuracy") continue;
    out.metrics.emplace_back(key, v.is_null() ? NAN : v.get<double>());
  }
  return out;
}

}  // namespace

// Columns per split: its loss, then each metric (train_loss, train_accuracy, penalty, val_loss,
// val_accuracy, test_loss, test_accuracy), named as Key::metric values and the search name them.
void write_metrics(const fs::path& dir, const std::vector<EpochMetrics>& history,
                   const std::vector<std::string>& names) {
  std::string csv = "epoch,train_loss";
  for (const auto& n : names) csv += ",train_" + n;
  csv += ",penalty,val_loss";
  for (const auto& n : names) csv += ",val_" + n;
  csv += ",test_loss";
  for (const auto& n : names) csv += ",test_" + n;
  csv += "\n";
  auto cells = [&](const Evaluation& e) {
    std::string out;
    for (const auto& n : names) {
      out += ',';
      out += cell(e.metric(n));
    }
    return out;
  };
  nlohmann::ordered_json epochs = nlohmann::ordered_json::array();
  for (const auto& m : history) {
    csv += fmt::format("{},{:.6f}{},{:.6f},", m.epoch, m.train.loss, cells(m.train), m.penalty);
    csv += m.validation ? fmt::format("{:.6f}{},", m.validation->loss, cells(*m.validation))
                        : std::string(names.size(), ',') + ",";
    csv += fmt::format("{:.6f}{}\n", m.test.loss, cells(m.test));
    nlohmann::ordered_json e;
    e["epoch"] = m.epoch;
    e["train"] = evaluation_json(m.train);
    e["penalty"] = m.penalty;
    if (m.validation) e["validation"] = evaluation_json(*m.validation);
    e["test"] = evaluation_json(m.test);
    epochs.push_back(e);
  }
  write_file_atomic(dir / "metrics.csv", csv);
  nlohmann::ordered_json j;
  j["epochs"] = epochs;
  write_file_atomic(dir / "metrics.json", j.dump(2) + "\n");
}

namespace {

std::vector<EpochMetrics> parse_metrics(const fs::path& file, const std::string& text, std::int64_t epochs) {
  std::vector<EpochMetrics> history;
  try {
    const auto j = nlohmann::json::parse(text);
    for (const auto& e : j.at("epochs")) {
      if (e.at("epoch").get<std::int64_t>() > epochs) break;
      EpochMetrics m;
      m.epoch = e.at("epoch").get<std::int64_t>();
      m.train = evaluation_of(e.at("train"));
      m.penalty = e.at("penalty").get<double>();
      if (e.contains("validation")) {
        m.validation = evaluation_of(e["validation"]);
      }
      m.test = evaluation_of(e.at("test"));
      history.push_back(m);
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not a metrics file: {}", file.string(), e.what()));
  }
  return history;
}

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t start = 0;
  for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1) {
    cells.push_back(line.substr(start, comma - start));
  }
  cells.push_back(line.substr(start));
  return cells;
}

}  // namespace

std::vector<EpochMetrics> read_history(const fs::path& dir, std::int64_t epochs) {
  std::error_code ec;
  if (!fs::exists(dir / "metrics.json", ec)) return {};
  return parse_metrics(dir / "metrics.json", read_whole_file(dir / "metrics.json", "the metrics", kTextCap), epochs);
}

std::vector<EpochMetrics> read_metrics(const fs::path& dir) {
  const fs::path file = dir / "metrics.json";
  return parse_metrics(
      file, read_whole_file(file, "(is this a run folder of `lamina train` or `lamina search`?)", kTextCap),
      std::numeric_limits<std::int64_t>::max());
}

RunTable read_run_table(const std::string& text) {
  RunTable t;
  std::size_t start = 0;
  bool header = true;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto cells = split_cells(text.substr(start, nl - start));
    if (header) {
      // Runs before metrics were plugins named accuracy's columns train_acc, val_acc, test_acc.
      for (auto& c : cells) {
        if (c == "train_acc" || c == "val_acc" || c == "test_acc") c += "uracy";
      }
      t.columns = std::move(cells);
      header = false;
    } else if (cells.size() == t.columns.size()) {
      t.rows.push_back(std::move(cells));
    } else {
      ++t.skipped;
    }
  }
  if (start < text.size()) ++t.skipped;  // the unfinished last line
  return t;
}

// The lines of iterations.csv (without its header) of the epochs a resumed run keeps.
std::string read_iterations(const fs::path& dir, std::int64_t epochs) {
  std::string line, kept;
  std::error_code ec;
  if (!fs::exists(dir / "iterations.csv", ec)) return kept;
  std::istringstream in(read_whole_file(dir / "iterations.csv", "the per-step losses", kTextCap));
  if (!std::getline(in, line)) return kept;
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


void write_run_info(const fs::path& dir, const RunInfo& info, const Model& model, const PluginLoader& loader,
                    const std::vector<EpochMetrics>& history, double total_seconds, const std::string& status,
                    const nlohmann::ordered_json& failure) {
  nlohmann::ordered_json j;
  j["lamina_version"] = LAMINA_VERSION_STRING;
  j["model"] = info.model_file.string();
  j["name"] = model.name;
  j["status"] = status;
  if (!failure.is_null()) j["diverged"] = failure;
  j["threads"] = omp_get_max_threads();  // per rank
  j["ranks"] = info.ranks;
  j["seed"] = model.train.seed;
  j["overrides"] = info.overrides;
  j["seconds_total"] = total_seconds;
  if (!info.class_names.empty()) j["class_names"] = info.class_names;
  if (!history.empty() && !history.back().stopped.empty()) {
    j["stopped_early"] = {{"epoch", history.back().epoch}, {"reason", history.back().stopped}};
  }
  std::vector<double> per_epoch, training, allreduce;
  for (const auto& m : history) {
    per_epoch.push_back(m.seconds);
    training.push_back(m.train_seconds);
    allreduce.push_back(m.allreduce_seconds);
  }
  j["seconds_per_epoch"] = per_epoch;
  j["train_seconds_per_epoch"] = training;  // the batches alone, without the evaluation passes
  // Data-parallel: rank 0's wait in the gradient allreduce, part of train_seconds_per_epoch.
  if (info.ranks > 1) j["allreduce_seconds_per_epoch"] = allreduce;
  nlohmann::ordered_json plugins = nlohmann::ordered_json::array();
  for (const auto& p : loader.loaded())
    plugins.push_back({{"name", p.name}, {"version", p.version}, {"file", p.file.string()}});
  j["plugins"] = plugins;
  write_file_atomic(dir / "run.json", j.dump(2) + "\n");
}


TrainedRun open_run(const fs::path& dir, const Registry& registry, std::span<const std::string> overrides,
                    std::ostream& err) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw InputError(fmt::format("{}: no such folder", dir.string()));
  if (!fs::exists(dir / "model.yaml", ec))
    throw InputError(fmt::format("{}: not a run folder (no model.yaml)", dir.string()));
  recover_checkpoint(dir);
  for (const auto& w : check_manifest(dir, registry)) err << dir.string() << ": " << w << std::endl;
  TrainedRun run{dir, build_model(ModelFile::load(dir / "model.yaml", overrides), registry, true)};
  restore_source_state(run.model, dir / "model.safetensors");
  // A run stopped part way (interrupted, killed, or still training) is usable, but is said to be:
  // its weights are those of its last finished epoch. One a callback stopped early is finished.
  std::string status;
  if (fs::is_regular_file(dir / "run.json", ec)) {
    try {
      status = nlohmann::json::parse(read_whole_file(dir / "run.json", "the run's record", kTextCap)).value("status", "");
    } catch (const std::exception&) {
      status = "";
    }
  }
  if (status != "finished" && fs::is_regular_file(dir / "model.safetensors", ec)) {
    const auto meta = read_safetensors(dir / "model.safetensors").metadata;
    const auto e = meta.find("epoch");
    if (e != meta.end() && e->second != std::to_string(run.model.train.epochs)) {
      err << fmt::format("note: {} holds epoch {} of {}: the run {}; `lamina train --resume {}` continues it",
                         dir.string(), e->second, run.model.train.epochs,
                         status.empty() ? "was stopped or is still training" : "was " + status, dir.string())
          << std::endl;
    }
  }
  return run;
}

void restore_source_state(Model& model, const fs::path& weights) {
  std::error_code ec;
  auto* source = dynamic_cast<SourceState*>(model.data.reader.get());
  if (source == nullptr || !fs::is_regular_file(weights, ec)) return;
  const auto meta = read_safetensors(weights).metadata;
  const auto it = meta.find("data_state");
  if (it == meta.end()) return;
  model.data_state = it->second;
  plugin_call({"data", model.data.source, model.data.plugin, model.data.plugin_file}, "restore_state",
              [&] { source->restore_state(it->second); });
}

Shape trained_input_shape(const fs::path& weights, std::string_view hint) {
  const SafetensorsFile f = read_safetensors(weights);
  const auto it = f.metadata.find("input_shape");
  if (it == f.metadata.end()) {
    throw InputError(fmt::format("{}: no input_shape in the metadata (a run of Lamina before 0.1.0's ABI 3); {}",
                                 weights.string(), hint));
  }
  try {
    std::vector<std::int64_t> dims = nlohmann::json::parse(it->second).get<std::vector<std::int64_t>>();
    if (dims.empty() || dims.size() > 3) throw InputError("");
    for (auto d : dims) {
      if (d < 1) throw InputError("");
    }
    return Shape::from(dims);
  } catch (const std::exception&) {
    throw InputError(fmt::format("{}: input_shape '{}' in the metadata is not a shape", weights.string(), it->second));
  }
}

std::pair<TargetKind, std::int64_t> trained_targets(const fs::path& weights) {
  const SafetensorsFile f = read_safetensors(weights);
  const auto it = f.metadata.find("targets");
  if (it == f.metadata.end()) return {TargetKind::Class, 1};  // every run before SDK 5
  try {
    const auto j = nlohmann::json::parse(it->second);
    const std::string kind = j.at("kind").get<std::string>();
    const auto width = j.at("width").get<std::int64_t>();
    for (TargetKind k : kTargetKinds) {
      if (kind == target_kind_name(k) && width >= 1) return {k, width};
    }
  } catch (const nlohmann::json::exception&) {
  }
  throw InputError(fmt::format("{}: targets '{}' in the metadata are not a kind of target and a width",
                               weights.string(), it->second));
}

void size_and_load(TrainedRun& run, const Shape& sample_shape, const std::string& input, bool best) {
  DataSplits shape_only;
  shape_only.sample_shape = sample_shape;
  shape_only.max_label = 0;
  const fs::path weights = run.dir / (best ? kBestWeights : "model.safetensors");
  std::error_code ec;
  if (fs::is_regular_file(weights, ec)) {
    std::tie(shape_only.target_kind, shape_only.target_width) = trained_targets(weights);
  }
  bool build_done = false;
  try {
    build_network(run.model, shape_only);
    build_done = true;
    load_weights(run.dir, run.model, best);
  } catch (const InputError& e) {
    if (build_done && best) throw;  // no best checkpoint: said as it is
    throw InputError(fmt::format("{}: samples of shape {} do not fit the model of {}: {}", input, sample_shape.str(),
                                 run.dir.string(), e.what()));
  }
}

}  // namespace lamina::detail
