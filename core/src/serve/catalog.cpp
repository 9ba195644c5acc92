#include "serve/catalog.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "live_marker.hpp"
#include "run_folder.hpp"
#include "search/journal.hpp"
#include "search/reporter.hpp"
#include "search/spec.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lamina::serve {
namespace {

constexpr std::uintmax_t kMaxFile = 64u << 20;  // a metrics file of 64 MB is not a metrics file
constexpr int kMaxDepth = 4;                     // runs/<group>/<search>/<...>: deep enough
constexpr std::size_t kMaxPoints = 5000;         // batch losses (and epochs) sent per run (evenly thinned)
// metrics.csv holds ~80 bytes an epoch: 8 MB is 100,000 epochs. Bigger is not read (its row says
// why): parsing 63 MB took 16 s and 3 GB per request.
constexpr std::uintmax_t kMaxMetrics = 8u << 20;

// Why the dashboard does not read `file` ("" when it does): too large for it.
std::string too_large(const fs::path& file, std::uintmax_t cap) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec || size <= cap) return "";
  return fmt::format("{}: {:.1f} MB, more than the {} MB the dashboard reads", file.filename().string(),
                     static_cast<double>(size) / (1 << 20), cap >> 20);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double mtime_seconds(const fs::path& p) {
  std::error_code ec;
  const auto t = fs::last_write_time(p, ec);
  if (ec) return 0;
  const auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration<double>(sys.time_since_epoch()).count();
}

bool has_file(const fs::path& dir, const char* name) {
  std::error_code ec;
  return fs::is_regular_file(dir / name, ec);
}

// `path` lies inside `root` (both canonical).
bool inside(const fs::path& root, const fs::path& path) {
  const fs::path rel = path.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}

std::optional<std::string> read_inside(const fs::path& real_root, const fs::path& file) {
  std::error_code ec;
  const fs::path real = fs::canonical(file, ec);
  if (ec || !inside(real_root, real) || !fs::is_regular_file(real, ec)) return std::nullopt;
  const auto size = fs::file_size(real, ec);
  if (ec || size > kMaxFile) return std::nullopt;
  std::ifstream in(real, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) return std::nullopt;
  return text;
}

json cell_value(const std::string& s) {
  if (s.empty()) return nullptr;
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return s;
}

// metrics.csv or iterations.csv as {columns, rows}, read by their owner (run_folder.hpp) and
// thinned to `max_rows` (0: all), keeping the last.
json run_table(const std::string& text, std::size_t max_rows = 0) {
  const detail::RunTable t = detail::read_run_table(text);
  json out = {{"columns", t.columns}, {"rows", json::array()}, {"skipped", t.skipped}};
  std::size_t step = 1;
  if (max_rows > 0 && t.rows.size() > max_rows) step = (t.rows.size() + max_rows - 1) / max_rows;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    if (i % step != 0 && i + 1 != t.rows.size()) continue;
    json row = json::array();
    for (const auto& c : t.rows[i]) row.push_back(cell_value(c));
    out["rows"].push_back(std::move(row));
  }
  return out;
}

// results.csv as {columns, rows}, read by its owner (search/reporter.hpp): a choice that is a
// mapping is one quoted field holding commas.
json results_table(const std::string& text) {
  json out = {{"columns", json::array()}, {"rows", json::array()}, {"skipped", 0}};
  const auto records = detail::read_results_csv(text);
  if (records.empty()) return out;
  for (const auto& h : records[0]) out["columns"].push_back(h);
  std::size_t skipped = 0;
  for (std::size_t i = 1; i < records.size(); ++i) {
    if (records[i].size() != records[0].size()) {
      ++skipped;
      continue;
    }
    json row = json::array();
    for (const auto& c : records[i]) row.push_back(cell_value(c));
    out["rows"].push_back(std::move(row));
  }
  out["skipped"] = skipped;
  return out;
}

std::optional<json> parse_json(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string stamp_of(const fs::path& dir, std::initializer_list<const char*> names) {
  std::string s;
  for (const char* n : names) {
    std::error_code ec;
    const auto size = fs::file_size(dir / n, ec);
    s += ec ? std::string("-;") : fmt::format("{}:{};", size, mtime_seconds(dir / n));
  }
  return s;
}

// A journal's fingerprint as the page shows it, parsed by its owner (search/spec.hpp).
struct Fingerprint {
  std::int64_t trials = 0, rounds = 1, epochs = 0;
  std::string metric;
  json dims = json::array();
};

Fingerprint read_fingerprint(const std::string& text) {
  const detail::FingerprintSummary parsed = detail::parse_fingerprint(text);
  Fingerprint f{parsed.trials, parsed.rounds, parsed.epochs, parsed.metric};
  for (std::size_t i = 0; i < parsed.dims.size(); ++i) {
    const Dimension& d = parsed.dims[i];
    json j = {{"name", d.path}, {"type", detail::dimension_type(d)}, {"log", d.type == Dimension::Type::LogUniform}};
    if (d.type == Dimension::Type::Choice) {
      j["choices"] = d.choices;
      // A branching choice's alternatives by name: "momentum", not its YAML with the ranges.
      if (auto names = detail::branch_names(parsed.dims, i); !names.empty()) j["labels"] = std::move(names);
    } else {
      j["range"] = {d.lo, d.hi};
    }
    f.dims.push_back(std::move(j));
  }
  return f;
}

}  // namespace

json to_json(const Entry& e) {
  json j = {{"id", e.id},        {"kind", e.search ? "search" : "run"},
            {"name", e.name},    {"status", e.status},
            {"live", e.live},    {"done", e.done},
            {"planned", e.planned}, {"best_val", e.best_val ? json(*e.best_val) : json(nullptr)},
            {"test_acc", e.test_acc ? json(*e.test_acc) : json(nullptr)},
            {"seconds", e.seconds ? json(*e.seconds) : json(nullptr)},
            {"modified", e.modified}, {"problem", e.problem}};
  if (e.search) {
    j["pruned"] = e.pruned;
    j["metric"] = e.metric;
    j["higher_is_better"] = e.higher_is_better;
  }
  return j;
}

Catalog::Catalog(std::vector<fs::path> roots) : roots_(std::move(roots)) {
  for (const auto& r : roots_) {
    std::error_code ec;
    real_roots_.push_back(fs::canonical(r, ec));
  }
}

std::optional<std::string> Catalog::read(const Entry& e, const char* name) const {
  return read_inside(real_roots_[e.root], e.dir / name);
}

// Updates the cache in place: an entry whose files did not change keeps its summary (its live
// flag rechecked), a new or changed one is read again, and one no longer found is dropped.
void Catalog::rescan() {
  std::set<std::string> seen;
  for (std::size_t k = 0; k < roots_.size(); ++k) {
    if (real_roots_[k].empty()) continue;
    std::vector<fs::path> found;
    auto consider = [&](const fs::path& dir) {
      const bool search = has_file(dir, "journal.jsonl");
      // A run from its start: model.yaml and the trainer's .live marker, before any epoch ended.
      const bool run = has_file(dir, "model.yaml") &&
                       (has_file(dir, "metrics.csv") || has_file(dir, "run.json") || has_file(dir, ".live"));
      if (search || run) found.push_back(dir);
      return search || run;
    };
    if (!consider(roots_[k])) {
      std::error_code ec;
      fs::recursive_directory_iterator it(roots_[k], fs::directory_options::skip_permission_denied, ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        std::error_code sec;
        if (it->is_symlink(sec) || !it->is_directory(sec)) {
          if (it->is_symlink(sec)) it.disable_recursion_pending();
          continue;
        }
        if (consider(it->path()) || it.depth() + 1 >= kMaxDepth) it.disable_recursion_pending();
      }
    }
    for (const auto& dir : found) {
      const std::string rel = dir.lexically_relative(roots_[k]).generic_string();
      const std::string id = fmt::format("{}/{}", k, rel);
      const bool search = has_file(dir, "journal.jsonl");
      const std::string stamp = search ? stamp_of(dir, {"journal.jsonl", "summary.json", ".live"})
                                       : stamp_of(dir, {"metrics.csv", "run.json", "model.yaml", ".live"});
      seen.insert(id);
      const auto old = cache_.find(id);
      if (old != cache_.end() && old->second.stamp == stamp) {
        Entry& kept = old->second.entry;
        kept.live = kept.live && detail::is_live(dir);  // a killed process leaves the same files
        if (!kept.live && kept.status == "running") kept.status = "interrupted";
        continue;
      }
      Entry e;
      e.id = id;
      e.root = k;
      e.dir = dir;
      e.search = search;
      e.name = rel == "." ? roots_[k].filename().string() : dir.filename().string();
      e.live = detail::is_live(dir);
      e.modified = std::max({mtime_seconds(dir / (search ? "journal.jsonl" : "metrics.csv")),
                             mtime_seconds(dir / "run.json"), mtime_seconds(dir / "model.yaml")});
      if (search) {
        const auto text = read(e, "journal.jsonl");
        const detail::JournalContents journal = detail::read_journal(text.value_or(""));
        std::optional<double> best;
        if (journal.header.is_object()) {
          const Fingerprint f = read_fingerprint(journal.header.value("fingerprint", ""));
          e.planned = f.trials * f.rounds;
          e.metric = f.metric;
          // Journals before metrics were plugins have no direction: only val_loss was minimized.
          e.higher_is_better = journal.header.value("higher_is_better", e.metric != "val_loss");
        }
        double trial_seconds = 0;  // a search's time: what its trials took, summed (over workers)
        for (const json& j : journal.trials) {
          ++e.done;
          if (j.contains("seconds") && j["seconds"].is_number()) trial_seconds += j["seconds"].get<double>();
          const std::string status = j.value("status", "");
          if (status == "pruned") ++e.pruned;
          if (status == "ok" && j.contains("score") && j["score"].is_number()) {
            double s = j["score"].get<double>();
            if (!e.higher_is_better) s = -s;  // the journal keeps -measure: higher is better
            const bool better = e.higher_is_better ? (!best || s > *best) : (!best || s < *best);
            if (better) best = s;
          }
        }
        if (!text) e.problem = "journal.jsonl: unreadable";
        e.best_val = best;
        if (e.done > 0) e.seconds = trial_seconds;
        e.status = e.live ? "running" : has_file(dir, "summary.json") ? "finished" : "interrupted";
      } else {
        if (const auto run = read(e, "run.json")) {
          const auto j = parse_json(run);
          if (!j || !j->is_object()) {
            e.problem = "run.json: not valid JSON";
          } else {
            e.status = j->value("status", "");
            if (j->contains("name") && (*j)["name"].is_string()) e.name = (*j)["name"].get<std::string>();
            if (j->contains("seconds_total") && (*j)["seconds_total"].is_number())
              e.seconds = (*j)["seconds_total"].get<double>();
          }
        }
        if (const auto yaml = read(e, "model.yaml")) {
          try {
            const YAML::Node m = YAML::Load(*yaml);
            if (m["name"] && m["name"].IsScalar() && !has_file(dir, "run.json")) e.name = m["name"].as<std::string>();
            if (m["train"] && m["train"]["epochs"]) e.planned = m["train"]["epochs"].as<std::int64_t>();
          } catch (const std::exception&) {
            e.problem = "model.yaml: not valid YAML";
          }
        }
        if (const std::string why = too_large(dir / "metrics.csv", kMaxMetrics); !why.empty()) e.problem = why;
        const json metrics =
            e.problem.starts_with("metrics.csv") ? run_table("") : run_table(read(e, "metrics.csv").value_or(""));
        const auto& cols = metrics["columns"];
        const auto col = [&](const char* name) -> int {
          for (std::size_t c = 0; c < cols.size(); ++c)
            if (cols[c] == name) return static_cast<int>(c);
          return -1;
        };
        const int val = col("val_accuracy"), test = col("test_accuracy");
        for (const auto& row : metrics["rows"]) {
          ++e.done;
          if (val >= 0 && row[static_cast<std::size_t>(val)].is_number()) {
            const double v = row[static_cast<std::size_t>(val)].get<double>();
            if (!e.best_val || v > *e.best_val) e.best_val = v;
          }
          if (test >= 0 && row[static_cast<std::size_t>(test)].is_number())
            e.test_acc = row[static_cast<std::size_t>(test)].get<double>();
        }
        if (e.status.empty() || (e.live && e.status != "diverged")) e.status = e.live ? "running" : "interrupted";
      }
      cache_[id] = Cached{stamp, std::move(e)};
    }
  }
  std::erase_if(cache_, [&](const auto& c) { return !seen.contains(c.first); });
}

Catalog::Page Catalog::page(std::size_t offset, std::size_t limit) {
  std::lock_guard lock(mutex_);
  const double now = now_seconds();
  if (now - scanned_at_ >= 1.0) {
    rescan();
    scanned_at_ = now;
  }
  std::vector<const Entry*> order;
  order.reserve(cache_.size());
  Page p;
  for (const auto& [id, c] : cache_) {
    order.push_back(&c.entry);
    p.live += c.entry.live ? 1 : 0;
  }
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) { return a->modified > b->modified; });
  p.total = order.size();
  for (std::size_t i = offset; i < order.size() && p.entries.size() < limit; ++i) p.entries.push_back(*order[i]);
  return p;
}

std::optional<Entry> Catalog::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  const double now = now_seconds();
  if (now - scanned_at_ >= 1.0) {  // an unknown id waits for the next scan: no rescan per request
    rescan();
    scanned_at_ = now;
  }
  const auto it = cache_.find(id);
  if (it == cache_.end()) return std::nullopt;
  return it->second.entry;
}

json Catalog::run_details(const Entry& e) const {
  json j = to_json(e);
  j["metrics"] = too_large(e.dir / "metrics.csv", kMaxMetrics).empty()
                     ? run_table(read(e, "metrics.csv").value_or(""), kMaxPoints)
                     : run_table("");
  const auto iterations = read(e, "iterations.csv");
  j["iterations"] = iterations ? run_table(*iterations, kMaxPoints) : json(nullptr);
  const auto yaml = read(e, "model.yaml");
  j["model_yaml"] = yaml ? json(*yaml) : json(nullptr);
  const auto run = parse_json(read(e, "run.json"));
  j["run_json"] = run ? *run : json(nullptr);
  return j;
}

namespace {

// model.yaml's scalars by dotted path ("optimizer.lr", "layers.0.units"), at most `room` of them.
void flatten(const YAML::Node& n, const std::string& path, json& out, std::size_t room) {
  if (out.size() >= room) return;
  if (n.IsScalar()) {
    out[path] = n.Scalar();
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) continue;
      const std::string key = kv.first.Scalar();
      if (path.empty() && (key == "layers_expanded" || key == "blocks" || key == "name")) continue;
      flatten(kv.second, path.empty() ? key : path + "." + key, out, room);
    }
  } else if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.size(); ++i) flatten(n[i], path + "." + std::to_string(i), out, room);
  }
}

}  // namespace

json Catalog::hparams(std::size_t limit) {
  const Page p = page(0, limit);
  json rows = json::array();
  for (const Entry& e : p.entries) {
    if (!e.search) {
      json row{{"id", e.id}, {"kind", "run"}, {"name", e.name}, {"status", e.live ? "running" : e.status}};
      json params = json::object(), metrics = json::object();
      if (const auto yaml = read(e, "model.yaml")) {
        try {
          flatten(YAML::Load(*yaml), "", params, 300);
        } catch (const YAML::Exception&) {
          // a model.yaml being written, or damaged: the row keeps its metrics
        }
      }
      if (too_large(e.dir / "metrics.csv", kMaxMetrics).empty()) {
        const json table = run_table(read(e, "metrics.csv").value_or(""));
        if (!table["rows"].empty()) {
          const json& last = table["rows"].back();
          for (std::size_t c = 0; c < table["columns"].size() && c < last.size(); ++c) {
            const std::string name = table["columns"][c].is_string() ? table["columns"][c].get<std::string>() : "";
            if ((name.starts_with("val_") || name.starts_with("test_")) && last[c].is_number()) metrics[name] = last[c];
          }
        }
      }
      row["params"] = params;
      row["metrics"] = metrics;
      rows.push_back(row);
      continue;
    }
    const detail::JournalContents journal = detail::read_journal(read(e, "journal.jsonl").value_or(""));
    for (const auto& t : journal.trials) {
      json row{{"id", e.id}, {"kind", "trial"}, {"name", e.name}, {"trial", t.value("trial", json())},
               {"status", t.value("status", json())}};
      json params = json::object(), metrics = json::object();
      if (t.contains("values") && t["values"].is_object()) {
        for (const auto& [path, v] : t["values"].items()) {
          if (v.is_object() && v.contains("text")) params[path] = v["text"];
        }
      }
      if (t.contains("score") && t["score"].is_number() && !e.metric.empty()) {
        metrics[e.metric] = e.higher_is_better ? t["score"].get<double>() : -t["score"].get<double>();
      }
      if (t.contains("objectives") && t["objectives"].is_object()) {
        for (const auto& [name, v] : t["objectives"].items()) {
          if (v.is_number()) metrics[name] = v;
        }
      }
      row["params"] = params;
      row["metrics"] = metrics;
      rows.push_back(row);
    }
  }
  return {{"total", p.total}, {"rows", rows}};
}

json Catalog::search_details(const Entry& e) const {
  json j = to_json(e);
  const detail::JournalContents journal = detail::read_journal(read(e, "journal.jsonl").value_or(""));
  if (journal.header.is_object()) {
    const Fingerprint f = read_fingerprint(journal.header.value("fingerprint", ""));
    j["space"] = f.dims;
    j["epochs"] = f.epochs;
    j["objectives"] = journal.header.value("objectives", json(nullptr));  // `objectives:`, with directions
  }
  j["trials"] = journal.trials;
  j["skipped_lines"] = journal.skipped;
  const auto results = read(e, "results.csv");
  j["results"] = results ? results_table(*results) : json(nullptr);
  const auto rounds = parse_json(read(e, "rounds.json"));
  j["rounds"] = rounds ? *rounds : json(nullptr);
  const auto summary = parse_json(read(e, "summary.json"));
  j["summary"] = summary ? *summary : json(nullptr);
  const auto best = read(e, "best.yaml");
  j["best_yaml"] = best ? json(*best) : json(nullptr);
  return j;
}

}  // namespace lamina::serve
