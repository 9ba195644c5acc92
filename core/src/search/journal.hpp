// The search journal: journal.jsonl, one JSON object per line. The first line identifies the
// search (its fingerprint); each further line is one finished trial. Lines are appended with
// write + fsync, so a killed search leaves every finished trial readable; a torn last line
// (the kill hit mid-write) is dropped on resume and the file is cut back to its last newline.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lamina/search_space.hpp"
#include "lamina/trial.hpp"

namespace lamina::detail {

// 2: rounds numbered from 1 (as results.csv and the console), trial streams from StreamFamily.
inline constexpr int kJournalVersion = 2;

class Journal {
 public:
  // Opens (creating if needed) and locks the journal; throws InputError if another search
  // holds it, it belongs to another search, or a complete line is not valid.
  // A new journal's first line holds the fingerprint and the search's metric ("val_accuracy"):
  // readers take the metric from there, never from the fingerprint's text.
  // `higher_is_better`: the metric's direction (lamina/metric.hpp), recorded beside it.
  // `objectives`: with `objectives:`, each one's name and whether higher is better, recorded
  // as "objectives" (the dashboard's Pareto plot and warm starts read them).
  Journal(const std::filesystem::path& file, const std::string& fingerprint, const std::string& metric,
          bool higher_is_better = true, const std::vector<std::pair<std::string, bool>>& objectives = {});
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const std::map<std::int64_t, nlohmann::ordered_json>& finished() const { return finished_; }
  const std::filesystem::path& file() const { return file_; }
  // The line (from 1) a finished trial was read from, for messages; 0 for one appended since.
  std::int64_t line_of(std::int64_t trial) const {
    const auto it = lines_.find(trial);
    return it == lines_.end() ? 0 : it->second;
  }
  // Thread-safe; returns how many trials the journal holds now.
  std::size_t append(const nlohmann::ordered_json& trial);

 private:
  void read_and_repair(const std::string& fingerprint, const std::string& metric, bool higher_is_better,
                       const std::vector<std::pair<std::string, bool>>& objectives);

  std::filesystem::path file_;
  std::map<std::int64_t, std::int64_t> lines_;  // trial -> line it was read from
  int fd_ = -1;
  std::mutex mu_;
  std::map<std::int64_t, nlohmann::ordered_json> finished_;
};

// A journal read without taking it (plot, the dashboard, while the search may be appending): the
// first line's object (the fingerprint's holder; null if none) and the trials' objects in file
// order. A line that is not a JSON object (a torn last line, damage) is left out and counted.
struct JournalContents {
  nlohmann::json header;
  std::vector<nlohmann::json> trials;
  std::size_t skipped = 0;
};
JournalContents read_journal(const std::string& text);

// A finished trial as a journal line, and back. The line keeps the status as its word
// ("pruned") and rounds from 1, as everywhere a user reads them; scores are stored
// higher-is-better (a loss negated), `score` being the last one of a trial ended ok or pruned.
// `repeat_scores`: a repeated trial's scores per seed (`repeats:`), kept as "repeat_scores".
// `objectives`: name and shown value of each objective (`objectives:`), kept as an object
// "objectives" in their order.
nlohmann::ordered_json trial_to_json(const Trial& trial, const SearchSpace& space, double seconds,
                                     const std::string& error,
                                     const std::vector<std::vector<double>>& repeat_scores = {},
                                     const std::vector<std::pair<std::string, double>>& objectives = {});
// A line's "objectives" read back, in the order of `names` (shown values); empty if it has none
// or one is missing or not a number. `line` may be either json flavour.
template <class Json>
std::vector<double> objectives_from_json(const Json& line, const std::vector<std::string>& names) {
  std::vector<double> out;
  const auto it = line.find("objectives");
  if (it == line.end() || !it->is_object()) return out;
  for (const auto& name : names) {
    const auto v = it->find(name);
    if (v == it->end() || !v->is_number()) return {};
    out.push_back(v->template get<double>());
  }
  return out;
}
// Throws InputError naming the journal and the trial if the line is not one of this search.
Trial trial_from_json(const nlohmann::ordered_json& line, const SearchSpace& space, const Journal& journal);

}  // namespace lamina::detail
