// The dashboard's view of the folders it serves: every run folder (model.yaml with metrics.csv,
// run.json or a .live marker) and search folder (journal.jsonl) found under the roots, summarized, and the
// details of one. Read-only, and the only code of `lamina serve` that touches the file system:
//   - an entry is named by an id made here ("0/mlp-20261202-101500": the root's index and the
//     path under it); a request names an id, never a path, and an id the scan did not make is
//     unknown, so `..`, absolute paths and names outside the roots cannot be asked for;
//   - directory symlinks are not followed, and a file is read only if its real path lies inside
//     the real root (a symlink out is skipped) and is below a size limit;
//   - a malformed or half-written file (a run in progress) is skipped or reported in the
//     entry's `problem`, never thrown out of here.
// Summaries are cached by the files' modification times, so a rescan of 10,000 runs reads only
// what changed; the cache holds summaries (a few hundred bytes each), never metrics.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace lamina::serve {

struct Entry {
  std::string id;
  std::size_t root = 0;  // index into the catalog's roots
  std::filesystem::path dir;
  bool search = false;
  std::string name;
  std::string status;  // finished | diverged | running | interrupted
  bool live = false;   // a process of this host is working on it now
  std::int64_t done = 0, planned = 0;  // epochs (runs) or trials (searches)
  std::optional<double> best_val;      // runs: best validation accuracy; searches: best score
  std::optional<double> test_acc;      // runs: the last epoch's test accuracy
  std::optional<double> seconds;       // runs: run.json's seconds_total
  std::int64_t pruned = 0;             // searches
  std::string metric;                  // searches: val_loss or val_ and a metric's name
  bool higher_is_better = true;        // searches: the metric's direction (the journal's header)
  double modified = 0;                 // newest file, seconds since the epoch
  std::string problem;                 // a file that could not be read, said as it is
};

nlohmann::json to_json(const Entry& e);

class Catalog {
 public:
  explicit Catalog(std::vector<std::filesystem::path> roots);

  // Entries [offset, offset + limit) of the list, newest first, and the counts of all;
  // rescans at most once a second. Copies only the page asked for.
  struct Page {
    std::size_t total = 0, live = 0;
    std::vector<Entry> entries;
  };
  Page page(std::size_t offset, std::size_t limit);
  std::optional<Entry> find(const std::string& id);

  // A run's metrics, batch losses, model.yaml and run.json; a search's trials, space, rounds,
  // summary and ranked table. Files that are missing or malformed come back null.
  nlohmann::json run_details(const Entry& e) const;
  nlohmann::json search_details(const Entry& e) const;

  // The HParams table: one row per run and per search trial of the newest `limit` entries,
  // {id, kind, name, trial (a search's), status, params {dotted path: text}, metrics {name:
  // number}}: a run's model.yaml flattened (layers by index, `layers_expanded` and `blocks`
  // left out) with its last epoch's val_ and test_ measures; a trial's values with its score
  // and objectives, as measured (not negated).
  nlohmann::json hparams(std::size_t limit);

  const std::vector<std::filesystem::path>& roots() const { return roots_; }

 private:
  struct Cached {
    std::string stamp;  // the sizes and times of the files the summary was read from
    Entry entry;
  };
  void rescan();
  std::optional<std::string> read(const Entry& e, const char* name) const;

  std::vector<std::filesystem::path> roots_;      // as given, for ids and messages
  std::vector<std::filesystem::path> real_roots_;  // canonical, for the containment check
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;  // by id
  double scanned_at_ = -1;
};

}  // namespace lamina::serve
