#include "search/scheduler.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "lamina/error.hpp"
#include "lamina/rng.hpp"
#include "search/pareto.hpp"

namespace lamina::detail {

Scheduler::Scheduler(SchedulerOptions options, Sampler& sampler, Pruner* pruner, std::map<std::int64_t, Trial> finished,
                     std::stop_token stop, std::map<std::int64_t, std::vector<double>> objectives)
    : o_(options),
      sampler_(sampler),
      pruner_(pruner),
      stop_(std::move(stop)),
      trials_(std::move(finished)),
      objectives_(std::move(objectives)) {}

// Several objectives: a sampler ranks trials by their final score, so each completed trial's
// final score becomes minus its place in the Pareto order of this history (search/pareto.hpp:
// front, then crowding distance). TPE's good/bad split is then MOTPE's (Ozaki, Tanigaki,
// Watanabe & Onishi 2020: the good set taken front by front), and any sampler that ranks by
// score optimizes the front with no change to the plugin interface. The order depends on the
// history alone, so proposals stay a function of their arguments. Pruned trials keep their
// first objective's scores: a sampler ranks them below every completed trial anyway.
void Scheduler::pareto_scores(std::vector<Trial>& history) const {
  std::vector<std::size_t> at;
  std::vector<std::vector<double>> points;
  for (std::size_t i = 0; i < history.size(); ++i) {
    const Trial& t = history[i];
    const auto it = objectives_.find(t.id);
    if (t.status != TrialStatus::Ok || t.scores.empty() || it == objectives_.end() || it->second.size() < 2) continue;
    at.push_back(i);
    points.push_back(it->second);
  }
  const auto order = sampler_order(points);
  for (std::size_t place = 0; place < order.size(); ++place) {
    history[at[order[place]]].scores.back() = -static_cast<double>(place);
  }
}

void Scheduler::begin_round(std::int64_t round, const SearchSpace& space) {
  std::lock_guard lock(mu_);
  round_ = round;
  space_ = space;
  begin_ = next_ = round * o_.trials;
  end_ = begin_ + o_.trials;
  for (std::int64_t id = begin_; id < end_; ++id) {
    auto [it, fresh] = trials_.try_emplace(id);
    if (fresh) {
      it->second.id = id;
      it->second.round = round;
    }
  }
}

bool Scheduler::history_ready(std::int64_t id) const {
  for (auto it = trials_.begin(); it != trials_.end() && it->first < id - o_.lag; ++it) {
    if (it->second.status == TrialStatus::Running) return false;
  }
  return true;
}

std::optional<Task> Scheduler::next() {
  std::unique_lock lock(mu_);
  while (next_ < end_ && trials_[next_].status != TrialStatus::Running) ++next_;
  if (next_ >= end_ || stopping()) return std::nullopt;
  const std::int64_t id = next_++;
  std::vector<Trial> history;
  if (sampler_.uses_history() && id >= static_cast<std::int64_t>(o_.enqueued.size())) {
    changed_.wait(lock, stop_, [&] { return history_ready(id); });
    if (stopping()) return std::nullopt;  // id stays unstarted: a resume proposes it
    // Negative ids are a warm start's trials (spec.hpp): seen by every proposal.
    for (auto it = trials_.begin(); it != trials_.end() && (it->first < 0 || it->first < id - o_.lag); ++it) {
      if (inside(it->second, space_)) history.push_back(it->second);
    }
    pareto_scores(history);
  }
  Rng rng(o_.seed, Rng::derived(StreamFamily::TrialProposal, static_cast<std::uint64_t>(id)));
  Task task{id, round_, {}};
  if (id < static_cast<std::int64_t>(o_.enqueued.size())) {
    task.values = o_.enqueued[static_cast<std::size_t>(id)];  // as the search file gives them
  } else if (o_.tree.conditions.empty()) {
    try {
      task.values = sampler_.propose(space_, history, id, rng);
    } catch (const std::exception& e) {
      throw PluginFailure(fmt::format("sampler {}: trial {}: {}", o_.sampler_name, id, e.what()));
    } catch (...) {
      throw PluginFailure(fmt::format("sampler {}: trial {}: it threw something that is not a std::exception",
                                      o_.sampler_name, id));
    }
    if (const std::string why = outside(task.values, space_); !why.empty()) {
      throw PluginFailure(fmt::format("sampler {}: trial {}: {}", o_.sampler_name, id, why));
    }
  } else {
    task.values = propose_tree(sampler_, o_.sampler_name, space_, o_.tree, history, id, rng);
  }
  trials_[id].values = task.values;
  return task;
}

bool Scheduler::earlier_reached(std::int64_t id, std::size_t epoch) const {
  for (auto it = trials_.lower_bound(begin_); it != trials_.end() && it->first < id; ++it) {
    if (it->second.status == TrialStatus::Running && it->second.scores.size() < epoch) return false;
  }
  return true;
}

bool Scheduler::report(std::int64_t id, double score) {
  std::unique_lock lock(mu_);
  Trial& me = trials_[id];
  me.scores.push_back(score);
  changed_.notify_all();
  const auto epoch = static_cast<std::int64_t>(me.scores.size());
  if (!pruner_ || !pruner_->decides_at(epoch)) return false;
  changed_.wait(lock, stop_, [&] { return earlier_reached(id, me.scores.size()); });
  if (stopping()) return false;
  std::vector<Trial> earlier;
  for (auto it = trials_.lower_bound(begin_); it != trials_.end() && it->first < id; ++it)
    earlier.push_back(it->second);
  bool prune = false;
  try {
    prune = pruner_->should_prune(me, earlier);
  } catch (const std::exception& e) {
    throw PluginFailure(fmt::format("pruner {}: trial {} at epoch {}: {}", o_.pruner_name, id, epoch, e.what()));
  } catch (...) {
    throw PluginFailure(fmt::format("pruner {}: trial {} at epoch {}: it threw something that is not a "
                                    "std::exception",
                                    o_.pruner_name, id, epoch));
  }
  if (prune) prune_decided_.insert(id);
  return prune;
}

std::optional<Trial> Scheduler::finish(std::int64_t id, TrialStatus trained, std::vector<double> objectives) {
  std::lock_guard lock(mu_);
  Trial& t = trials_[id];
  const bool all_epochs = static_cast<std::int64_t>(t.scores.size()) == o_.epochs;
  // A "stop" decided at the last epoch stops nothing: such a trial ran every epoch, it is ok.
  TrialStatus status = trained;
  if (trained == TrialStatus::Ok && !all_epochs && prune_decided_.count(id)) status = TrialStatus::Pruned;
  changed_.notify_all();
  if (status == TrialStatus::Ok && !all_epochs) {
    // Cut short by a stop: forgotten, so a resume runs it from the start.
    t.scores.clear();
    prune_decided_.erase(id);
    return std::nullopt;
  }
  t.status = status;
  if (!objectives.empty()) objectives_[id] = std::move(objectives);
  ++finished_here_;
  return t;
}

std::vector<Trial> Scheduler::round_trials(std::int64_t round) const {
  std::lock_guard lock(mu_);
  std::vector<Trial> out;
  for (auto it = trials_.lower_bound(round * o_.trials); it != trials_.end() && it->first < (round + 1) * o_.trials;
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::int64_t Scheduler::finished_here() const {
  std::lock_guard lock(mu_);
  return finished_here_;
}

std::string outside(const std::vector<Value>& values, const SearchSpace& space) {
  if (values.size() != space.dims.size()) {
    return fmt::format("proposed {} values for a space of {} dimensions", values.size(), space.dims.size());
  }
  for (std::size_t d = 0; d < space.dims.size(); ++d) {
    const auto& dim = space.dims[d];
    const Value& v = values[d];
    if (dim.type == Dimension::Type::Choice) {
      const auto i = static_cast<std::size_t>(v.number);
      if (!(v.number >= 0) || i >= dim.choices.size() || static_cast<double>(i) != v.number ||
          dim.choices[i] != v.text) {
        return fmt::format("{}: '{}' (index {}) is not one of its choices", dim.path, v.text, v.number);
      }
    } else if (const double slack = 1e-9 * std::max(std::abs(dim.lo), std::abs(dim.hi));
               !(v.number >= dim.lo - slack && v.number <= dim.hi + slack) || v.text.empty()) {
      // (the slack: exp(log hi) may land an ulp above hi)
      return fmt::format("{}: {} is outside [{}, {}]", dim.path, v.number, dim.lo, dim.hi);
    }
  }
  return "";
}

bool inside(const Trial& t, const SearchSpace& space) {
  if (t.values.size() != space.dims.size()) return false;
  for (std::size_t d = 0; d < space.dims.size(); ++d) {
    const auto& dim = space.dims[d];
    if (dim.type == Dimension::Type::Choice) continue;
    if (t.values[d].number < dim.lo || t.values[d].number > dim.hi) return false;
  }
  return true;
}

SearchSpace narrow(const SearchSpace& space, const std::vector<Trial>& round, double keep) {
  std::vector<const Trial*> ranked;
  for (const auto& t : round) {
    if (!t.scores.empty() && (t.status == TrialStatus::Ok || t.status == TrialStatus::Pruned)) ranked.push_back(&t);
  }
  if (ranked.size() < 2) return space;
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Trial* a, const Trial* b) { return a->scores.back() > b->scores.back(); });
  SearchSpace out = space;
  for (std::size_t d = 0; d < out.dims.size(); ++d) {
    auto& dim = out.dims[d];
    if (dim.type == Dimension::Type::Choice) continue;
    std::vector<const Trial*> tried;  // ranked, where this dimension was active
    for (const auto* t : ranked) {
      if (d < t->values.size() && !is_inactive(t->values[d])) tried.push_back(t);
    }
    if (tried.size() < 2) continue;
    const auto n = std::max<std::size_t>(2, static_cast<std::size_t>(std::ceil(keep * tried.size())));
    tried.resize(std::min(n, tried.size()));
    double lo = tried[0]->values[d].number, hi = lo;
    for (const auto* t : tried) {
      lo = std::min(lo, t->values[d].number);
      hi = std::max(hi, t->values[d].number);
    }
    dim.lo = lo;
    dim.hi = hi;
  }
  return out;
}

}  // namespace lamina::detail
