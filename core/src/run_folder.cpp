#include "run_folder.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "lamina/error.hpp"

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

RunDir create_run_dir(const std::string& model_name, const fs::path* out) {
  std::error_code ec;
  if (out != nullptr) {
    if (fs::exists(*out / "metrics.csv", ec)) {
      throw InputError(
          fmt::format("--out {}: the folder already holds a run (metrics.csv); choose another folder", out->string()));
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

void write_metrics(const fs::path& dir, const std::vector<EpochMetrics>& history) {
  std::string csv = "epoch,train_loss,train_acc,penalty,val_loss,val_acc,test_loss,test_acc\n";
  nlohmann::ordered_json epochs = nlohmann::ordered_json::array();
  for (const auto& m : history) {
    csv += fmt::format("{},{:.6f},{:.6f},{:.6f},", m.epoch, m.train.loss, m.train.accuracy, m.penalty);
    csv += m.validation ? fmt::format("{:.6f},{:.6f},", m.validation->loss, m.validation->accuracy) : std::string(",,");
    csv += fmt::format("{:.6f},{:.6f}\n", m.test.loss, m.test.accuracy);
    nlohmann::ordered_json e;
    e["epoch"] = m.epoch;
    e["train"] = {{"loss", m.train.loss}, {"accuracy", m.train.accuracy}};
    e["penalty"] = m.penalty;
    if (m.validation) e["validation"] = {{"loss", m.validation->loss}, {"accuracy", m.validation->accuracy}};
    e["test"] = {{"loss", m.test.loss}, {"accuracy", m.test.accuracy}};
    epochs.push_back(e);
  }
  write_file_atomic(dir / "metrics.csv", csv);
  nlohmann::ordered_json j;
  j["epochs"] = epochs;
  write_file_atomic(dir / "metrics.json", j.dump(2) + "\n");
}

}  // namespace lamina::detail
