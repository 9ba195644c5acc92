#include "search/reporter.hpp"

#include <csv.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "atomic_file.hpp"
#include "lamina/error.hpp"
#include "search/importance.hpp"
#include "search/pareto.hpp"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace lamina::detail {
namespace {

// One CSV field: as is when plain, else quoted by libcsv (a choice such as `{type: adam, lr:
// 0.001}` holds commas and would add columns).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out(csv_write(nullptr, 0, text.data(), text.size()), '\0');
  csv_write(out.data(), out.size(), text.data(), text.size());
  return out;
}

struct CsvRecords {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> current;
};

// An objective's value as results.csv and the console show it: a count whole, seconds to the
// 4 significant digits, a metric as the metric column is.
std::string objective_text(const Objective& o, double v) {
  switch (o.source) {
    case Objective::Source::Parameters:
      return fmt::format("{:.0f}", v);
    case Objective::Source::SecondsPerEpoch:
      return fmt::format("{:.4g}", v);
    case Objective::Source::Metric:
      break;
  }
  return fmt::format("{:.6f}", v);
}

// "val_accuracy (max), parameters (min)"
std::string join_names(const std::vector<Objective>& objectives) {
  std::string s;
  for (const Objective& o : objectives) {
    s += fmt::format("{}{} ({})", s.empty() ? "" : ", ", o.metric.name,
                     o.metric.direction == Metric::Direction::Maximize ? "max" : "min");
  }
  return s;
}

bool ranked(const Trial& t) {
  return (t.status == TrialStatus::Ok || t.status == TrialStatus::Pruned) && !t.scores.empty();
}

}  // namespace

std::string dimension_type(const Dimension& d) {
  switch (d.type) {
    case Dimension::Type::Uniform:
      return "uniform";
    case Dimension::Type::LogUniform:
      return "log_uniform";
    case Dimension::Type::IntUniform:
      return "int_uniform";
    case Dimension::Type::Choice:
      return "choice";
  }
  return "";
}

std::string describe_space(const SearchSpace& space, const SpaceTree& tree) {
  std::string s;
  for (std::size_t i = 0; i < space.dims.size(); ++i) {
    const auto& d = space.dims[i];
    const bool branches = i < tree.conditions.size() && !tree.conditions[i].branches.empty();
    if (!s.empty()) s += " | ";
    s += d.type == Dimension::Type::Choice
             ? fmt::format("{} {{{}}}", d.path, fmt::join(branches ? tree.conditions[i].branches : d.choices, ", "))
             : fmt::format("{} [{:.3g}, {:.3g}] ({})", d.path, d.lo, d.hi, dimension_type(d));
  }
  return s;
}

Reporter::Reporter(const SearchSpec& spec, std::ostream& out, bool live, std::int64_t planned)
    : spec_(spec), out_(out), live_(live), planned_(planned) {}

void Reporter::trial_finished(const Trial& t, double seconds, const std::string& error, std::int64_t done,
                              std::int64_t run_here) {
  std::lock_guard lock(mu_);
  if (ranked(t)) best_ = std::max(best_, t.scores.back());
  std::string line =
      fmt::format("trial {:>4} (round {}) {:<8} {} {}", t.id, t.round + 1, status_name(t.status), spec_.metric.name,
                  t.scores.empty() ? std::string("-") : fmt::format("{:.4f}", spec_.metric.shown(t.scores.back())));
  for (std::size_t d = 0; d < spec_.space.dims.size(); ++d) {
    if (!is_inactive(t.values[d])) line += fmt::format(" | {} {}", spec_.space.dims[d].path, shown_value(spec_.tree, t.values, d));
  }
  line += fmt::format(" | {} epochs {:.1f}s", t.scores.size(), seconds);
  if (!error.empty()) line += " | " + error;
  if (live_) fmt::print(stderr, "\r\033[K");
  out_ << line << std::endl;
  if (live_) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta =
        elapsed / static_cast<double>(std::max<std::int64_t>(1, run_here)) * static_cast<double>(planned_ - done);
    fmt::print(stderr, "[{}/{}] best {} {} | {:.0f}s elapsed | eta {:.0f}s", done, planned_, spec_.metric.name,
               std::isfinite(best_) ? fmt::format("{:.4f}", spec_.metric.shown(best_)) : std::string("-"), elapsed,
               eta);
    std::fflush(stderr);
  }
}

void Reporter::write_results(const fs::path& dir, const std::vector<SearchSpace>& spaces,
                             const std::vector<std::vector<Trial>>& rounds,
                             const std::function<std::string(const Trial&)>& best_model,
                             const std::map<std::int64_t, double>& repeat_sd,
                             const std::map<std::int64_t, std::vector<double>>& objectives) {
  std::vector<const Trial*> order;
  for (const auto& r : rounds) {
    for (const auto& t : r) {
      if (ranked(t)) order.push_back(&t);
    }
  }
  // Several objectives: the completed trials' fronts (pruned ones trained fewer epochs, their
  // objectives are not comparable: they are on no front and rank after every completed trial).
  const bool several = !spec_.objectives.empty();
  std::map<std::int64_t, int> front_of;
  if (several) {
    std::vector<std::int64_t> ids;
    std::vector<std::vector<double>> points;
    for (const Trial* t : order) {
      const auto it = objectives.find(t->id);
      if (t->status != TrialStatus::Ok || it == objectives.end() || it->second.size() != spec_.objectives.size()) {
        continue;
      }
      ids.push_back(t->id);
      points.push_back(objective_scores(spec_, it->second));
    }
    const auto ranks = pareto_ranks(points);
    for (std::size_t i = 0; i < ids.size(); ++i) front_of[ids[i]] = ranks[i];
  }
  const auto front = [&](const Trial* t) {
    const auto it = front_of.find(t->id);
    return it == front_of.end() ? std::numeric_limits<int>::max() : it->second;
  };
  std::stable_sort(order.begin(), order.end(), [&](const Trial* a, const Trial* b) {
    if (front(a) != front(b)) return front(a) < front(b);
    return a->scores.back() > b->scores.back();
  });
  const Metric& metric = spec_.metric;
  // With repeats the metric's column is the seeds' mean, and its standard deviation follows.
  const bool repeated = spec_.repeats > 1;
  std::string csv = "rank,trial,round,status,epochs," + metric.name + (repeated ? "," + metric.name + "_sd" : "");
  for (std::size_t k = 1; k < spec_.objectives.size(); ++k) csv += "," + spec_.objectives[k].metric.name;
  if (several) csv += ",pareto_rank,front";
  for (const auto& d : spec_.space.dims) (csv += ',') += csv_field(d.path);
  csv += "\n";
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& t = *order[i];
    csv += fmt::format("{},{},{},{},{},{:.6f}", i + 1, t.id, t.round + 1, status_name(t.status), t.scores.size(),
                       metric.shown(t.scores.back()));
    if (repeated) {
      const auto sd = repeat_sd.find(t.id);
      csv += sd == repeat_sd.end() ? std::string(",") : fmt::format(",{:.6f}", sd->second);
    }
    if (several) {
      const auto it = objectives.find(t.id);
      for (std::size_t k = 1; k < spec_.objectives.size(); ++k) {
        csv += ',';
        if (it != objectives.end() && k < it->second.size()) csv += objective_text(spec_.objectives[k], it->second[k]);
      }
      csv += front_of.count(t.id) ? fmt::format(",{},{}", front(&t), front(&t) == 1) : std::string(",,false");
    }
    for (std::size_t d = 0; d < t.values.size(); ++d) (csv += ',') += csv_field(shown_value(spec_.tree, t.values, d));
    csv += "\n";
  }
  write_file_atomic(dir / "results.csv", csv);

  json rounds_json = json::array();
  for (std::size_t r = 0; r < spaces.size(); ++r) {
    json dims = json::object();
    for (const auto& d : spaces[r].dims) {
      dims[d.path] = {{"type", dimension_type(d)},
                      {"range", d.type == Dimension::Type::Choice ? json(d.choices) : json({d.lo, d.hi})}};
    }
    rounds_json.push_back({{"round", r + 1}, {"space", dims}});
  }
  write_file_atomic(dir / "rounds.json", rounds_json.dump(2) + "\n");

  // Compute spent, in trial-epochs, and when the best score was first reached, in trial order
  // (the order a serial search runs them): what pruning, narrowing and a sampler save.
  std::int64_t spent = 0, spent_at_best = 0, pruned = 0, trials_to_best = 0, n = 0;
  double best = -INFINITY;
  for (const auto& r : rounds) {
    for (const auto& t : r) {
      ++n;
      spent += static_cast<std::int64_t>(t.scores.size());
      pruned += t.status == TrialStatus::Pruned;
      if (ranked(t) && t.scores.back() > best) {
        best = t.scores.back();
        spent_at_best = spent;
        trials_to_best = n;
      }
    }
  }
  std::vector<const Trial*> members;  // the front, in the ranking's order
  for (const Trial* t : order) {
    if (front(t) == 1) members.push_back(t);
  }
  json summary;
  summary["trials"] = static_cast<std::int64_t>(order.size());
  summary["pruned"] = pruned;
  summary["trial_epochs"] = spent;
  summary["best_score"] = order.empty() ? json() : json(metric.shown(best));
  summary["trial_epochs_to_best"] = spent_at_best;
  summary["trials_to_best"] = trials_to_best;
  if (several) {
    summary["objectives"] = json::array();
    for (const Objective& o : spec_.objectives) {
      summary["objectives"].push_back(
          {{"name", o.metric.name}, {"higher_is_better", o.metric.direction == Metric::Direction::Maximize}});
    }
    summary["front"] = json::array();
    for (const Trial* t : members) summary["front"].push_back(t->id);
  }
  // Which hyperparameters mattered (search/importance.hpp), to the first objective.
  std::vector<Trial> all;
  for (const auto& r : rounds) all.insert(all.end(), r.begin(), r.end());
  const std::vector<double> importance = ped_anova(spec_.space, all);
  if (!importance.empty()) {
    json values = json::object();
    for (std::size_t d = 0; d < importance.size(); ++d) values[spec_.space.dims[d].path] = importance[d];
    summary["importance"] = {{"method", "PED-ANOVA"}, {"quantile", 0.1}, {"of", metric.name}, {"values", values}};
  }
  write_file_atomic(dir / "summary.json", summary.dump(2) + "\n");

  const auto short_name = [](const std::string& name) {
    return name == "val_loss" ? std::string("val loss") : name == "val_accuracy" ? std::string("val acc") : name;
  };
  out_ << (several ? fmt::format("\n{} finished trials ranked by the Pareto front of {} (front 1 first, then by {}; top {}):\n",
                                 order.size(), join_names(spec_.objectives), metric.name,
                                 std::min<std::size_t>(20, order.size()))
                   : fmt::format("\n{} finished trials ranked by {} (top {}):\n", order.size(), metric.name,
                                 std::min<std::size_t>(20, order.size())));
  for (std::size_t i = 0; i < order.size() && i < 20; ++i) {
    const auto& t = *order[i];
    std::string line;
    if (several) {
      const auto it = objectives.find(t.id);
      std::string measured = fmt::format("{} {:.4f}", short_name(metric.name), metric.shown(t.scores.back()));
      for (std::size_t k = 1; it != objectives.end() && k < spec_.objectives.size() && k < it->second.size(); ++k) {
        measured += fmt::format(", {} {}", spec_.objectives[k].metric.name,
                                objective_text(spec_.objectives[k], it->second[k]));
      }
      line = front_of.count(t.id) ? fmt::format("Front-{} trial {} ({})", front(&t), t.id, measured)
                                  : fmt::format("No front trial {} ({})", t.id, measured);
    } else {
      line = fmt::format("Best-{} ({} {:.4f})", i + 1, short_name(metric.name), metric.shown(t.scores.back()));
    }
    for (std::size_t d = 0; d < spec_.space.dims.size(); ++d) {
      const auto& dim = spec_.space.dims[d];
      if (is_inactive(t.values[d])) continue;
      line += dim.type == Dimension::Type::Choice || dim.type == Dimension::Type::IntUniform
                  ? fmt::format(" | {} {}", dim.path, shown_value(spec_.tree, t.values, d))
                  : fmt::format(" | {} {:.1e}", dim.path, t.values[d].number);
    }
    if (t.status == TrialStatus::Pruned) line += fmt::format(" | pruned at epoch {}", t.scores.size());
    out_ << line << "\n";
  }
  if (!importance.empty()) {
    std::vector<std::size_t> by(importance.size());
    for (std::size_t d = 0; d < by.size(); ++d) by[d] = d;
    std::stable_sort(by.begin(), by.end(), [&](std::size_t a, std::size_t b) { return importance[a] > importance[b]; });
    std::string line;
    for (std::size_t d : by) line += fmt::format("{}{} {:.2f}", line.empty() ? "" : ", ", spec_.space.dims[d].path, importance[d]);
    out_ << fmt::format("importance to {} (PED-ANOVA, the top 10% against all): {}\n", metric.name, line);
  }
  if (!order.empty()) {
    out_ << fmt::format("compute: {} trial-epochs ({} trials pruned); the best {} was reached after {}\n", spent,
                        pruned, several ? metric.name : "score", spent_at_best);
  }
  if (several) {
    write_front(dir / "pareto", members, objectives, best_model);
    out_ << fmt::format("Pareto front: {} trials; a model file for each in {}\n", members.size(),
                        (dir / "pareto").string());
  } else if (!order.empty()) {
    write_file_atomic(dir / "best.yaml", "# The base model with the best trial's values (trial " +
                                             std::to_string(order[0]->id) + ").\n" + best_model(*order[0]));
    out_ << fmt::format("best model: {}\n", (dir / "best.yaml").string());
  }
  out_.flush();
}

void Reporter::write_front(const fs::path& folder, const std::vector<const Trial*>& members,
                           const std::map<std::int64_t, std::vector<double>>& objectives,
                           const std::function<std::string(const Trial&)>& model_of) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw Error(fmt::format("{}: cannot create the folder: {}", folder.string(), ec.message()));
  // A resumed search's front may have lost members: their files go, so the folder is the front.
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("trial-") && name.ends_with(".yaml")) stale.push_back(entry.path());
  }
  for (const auto& f : stale) fs::remove(f, ec);
  for (const Trial* t : members) {
    std::string measured;
    const auto it = objectives.find(t->id);
    for (std::size_t k = 0; it != objectives.end() && k < spec_.objectives.size() && k < it->second.size(); ++k) {
      measured += fmt::format("{}{} {}", k ? ", " : "", spec_.objectives[k].metric.name,
                              objective_text(spec_.objectives[k], it->second[k]));
    }
    write_file_atomic(folder / fmt::format("trial-{}.yaml", t->id),
                      fmt::format("# The base model with trial {}'s values, on the Pareto front of {}: {}.\n", t->id,
                                  join_names(spec_.objectives), measured) +
                          model_of(*t));
  }
}

std::vector<std::vector<std::string>> read_results_csv(const std::string& text) {
  const std::size_t end = text.rfind('\n');
  if (end == std::string::npos) return {};
  csv_parser p;
  if (csv_init(&p, CSV_APPEND_NULL) != 0) return {};
  CsvRecords out;
  const auto field = [](void* data, std::size_t n, void* self) {
    static_cast<CsvRecords*>(self)->current.emplace_back(static_cast<const char*>(data), n);
  };
  const auto record = [](int, void* self) {
    auto* r = static_cast<CsvRecords*>(self);
    r->records.push_back(std::move(r->current));
    r->current.clear();
  };
  csv_parse(&p, text.data(), end + 1, field, record, &out);
  csv_fini(&p, field, record, &out);
  csv_free(&p);
  return out.records;
}

}  // namespace lamina::detail
