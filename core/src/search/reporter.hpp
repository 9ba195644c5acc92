// What a search tells its user: a line per finished trial and the live progress line while it
// runs; at the end the ranked table and the files results.csv, rounds.json, summary.json and
// best.yaml. Scores arrive higher-is-better and are shown in the metric's own direction.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "search/spec.hpp"

namespace lamina::detail {

// "optimizer.lr [1e-06, 0.01] (log_uniform) | ..."; a choice with distributions inside lists its
// alternatives by name ("optimizer {sgd, momentum}"), their leaves follow.
std::string describe_space(const SearchSpace& space, const SpaceTree& tree = {});
std::string dimension_type(const Dimension& d);        // "uniform", "log_uniform", "int_uniform", "choice"

// results.csv read back (the dashboard's ranked table): its complete records, the header first,
// each field unquoted as libcsv wrote it. A line still being written is left out.
std::vector<std::vector<std::string>> read_results_csv(const std::string& text);

class Reporter {
 public:
  // `live`: also draw the progress line on stderr (a terminal). `planned`: trials in all rounds.
  Reporter(const SearchSpec& spec, std::ostream& out, bool live, std::int64_t planned);

  // Thread-safe. `done`: trials finished so far (read back from the journal included);
  // `run_here`: of which this process ran (for the time estimate).
  void trial_finished(const Trial& t, double seconds, const std::string& error, std::int64_t done,
                      std::int64_t run_here);

  // `rounds[r]`: round r's space and trials. `best_model`: the base model's text with a trial's
  // values, checked (throws if the best model would not build). `repeat_sd`: a repeated trial's
  // standard deviation of its seeds' final scores, by trial id. `objectives` (`objectives:`):
  // each trial's objective values as shown, by id; the ranking is then the Pareto front's
  // (front, then the first objective), results.csv gains each objective, pareto_rank and
  // front, and pareto/ holds a model per front member instead of best.yaml.
  void write_results(const std::filesystem::path& dir, const std::vector<SearchSpace>& spaces,
                     const std::vector<std::vector<Trial>>& rounds,
                     const std::function<std::string(const Trial&)>& best_model,
                     const std::map<std::int64_t, double>& repeat_sd = {},
                     const std::map<std::int64_t, std::vector<double>>& objectives = {});

 private:
  // pareto/trial-ID.yaml for each front member (files of trials no longer on it removed).
  void write_front(const std::filesystem::path& folder, const std::vector<const Trial*>& members,
                   const std::map<std::int64_t, std::vector<double>>& objectives,
                   const std::function<std::string(const Trial&)>& model_of);

  const SearchSpec& spec_;
  std::ostream& out_;
  bool live_;
  std::int64_t planned_;
  std::mutex mu_;
  double best_ = -INFINITY;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace lamina::detail
