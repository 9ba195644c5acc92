// The search's core units without training: the scheduler (proposals from a fixed history,
// the pruning order, finishing, stopping), narrowing, the journal's records, the reporter's
// files and the MPI protocol's messages. Trials are simulated by threads that sleep.
#define BOOST_TEST_MODULE core_search_units
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "search/journal.hpp"
#include "search/mpi_executor.hpp"
#include "search/importance.hpp"
#include "search/pareto.hpp"
#include "search/reporter.hpp"
#include "search/scheduler.hpp"
#include "test_support.hpp"

namespace lamina {
std::ostream& operator<<(std::ostream& o, TrialStatus s) { return o << status_name(s); }
}  // namespace lamina

using namespace lamina;
using namespace lamina::detail;
using lamina::test::read_file;
using lamina::test::TempDir;

namespace {

SearchSpace space() {
  SearchSpace s;
  s.dims.push_back({"optimizer.lr", Dimension::Type::LogUniform, 1e-4, 1.0, {}});
  return s;
}

// Proposes lr = 10^-(1 + the number of trials seen mod 3) and records what it saw.
class RecordingSampler final : public Sampler {
 public:
  std::vector<Value> propose(const SearchSpace&, std::span<const Trial> history, std::int64_t id, Rng& rng) override {
    std::vector<std::int64_t> ids;
    for (const auto& t : history) ids.push_back(t.id);
    std::lock_guard lock(mu);
    seen[id] = ids;
    const double v = std::pow(10.0, -1.0 - static_cast<double>(history.size() % 3)) * (1 + rng.uniform() * 1e-3);
    return {{std::to_string(v), v}};
  }
  bool uses_history() const override { return history; }
  bool history = true;
  std::mutex mu;
  std::map<std::int64_t, std::vector<std::int64_t>> seen;
};

// Stops a trial at even epochs when its score is below the mean of the earlier trials there;
// records each decision and the scores it was made from.
class RecordingPruner final : public Pruner {
 public:
  bool decides_at(std::int64_t epoch) const override { return epoch % 2 == 0; }
  bool should_prune(const Trial& t, std::span<const Trial> earlier) override {
    const std::size_t e = t.scores.size();
    double sum = 0;
    int n = 0;
    std::string from;
    for (const auto& o : earlier) {
      if (o.scores.size() >= e) sum += o.scores[e - 1], ++n, from += std::to_string(o.id) + " ";
    }
    const bool stop = n > 0 && t.scores.back() < sum / n;
    std::lock_guard lock(mu);
    decisions[{t.id, e}] = from + (stop ? "stop" : "go");
    return stop;
  }
  std::mutex mu;
  std::map<std::pair<std::int64_t, std::size_t>, std::string> decisions;
};

// A trial's score at each epoch: a function of its id and epoch only.
double score_of(std::int64_t id, std::int64_t epoch) {
  return 0.5 + 0.3 * std::sin(static_cast<double>(id) * 1.7) + 0.01 * static_cast<double>(epoch);
}

// Runs `trials` trials of `epochs` on `threads` threads that sleep a random time per epoch;
// returns the finished trials by id.
std::map<std::int64_t, Trial> simulate(Scheduler& s, int threads, std::int64_t epochs, unsigned seed) {
  std::map<std::int64_t, Trial> out;
  std::mutex mu;
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w) {
    pool.emplace_back([&, w] {
      std::mt19937 gen(seed + static_cast<unsigned>(w));
      while (const auto task = s.next()) {
        for (std::int64_t e = 1; e <= epochs; ++e) {
          std::this_thread::sleep_for(std::chrono::microseconds(gen() % 3000));
          if (s.report(task->id, score_of(task->id, e))) break;
        }
        if (auto t = s.finish(task->id, TrialStatus::Ok)) {
          std::lock_guard lock(mu);
          out[t->id] = *t;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_sampler_sees_exactly_the_trials_below_id_minus_lag_for_any_worker_count) {
  std::map<std::int64_t, std::vector<std::int64_t>> seen[2];
  std::map<std::int64_t, Trial> trials[2];
  for (int run = 0; run < 2; ++run) {
    RecordingSampler sampler;
    std::stop_source stop;
    Scheduler s({12, 3, 5, 2, "recording", "", {}, {}}, sampler, nullptr, {}, stop.get_token());
    s.begin_round(0, space());
    trials[run] = simulate(s, run == 0 ? 1 : 4, 3, 17);
    seen[run] = sampler.seen;
  }
  BOOST_TEST_REQUIRE(trials[0].size() == 12u);
  for (std::int64_t id = 0; id < 12; ++id) {
    std::vector<std::int64_t> expected;
    for (std::int64_t k = 0; k < id - 2; ++k) expected.push_back(k);
    BOOST_TEST(seen[0][id] == expected, "trial " << id);
    BOOST_TEST(seen[1][id] == expected, "trial " << id);
    BOOST_TEST(trials[0][id].values[0].text == trials[1][id].values[0].text);
  }
}

BOOST_AUTO_TEST_CASE(a_sampler_that_ignores_history_never_waits) {
  RecordingSampler sampler;
  sampler.history = false;
  std::stop_source stop;
  Scheduler s({4, 1, 5, 0, "recording", "", {}, {}}, sampler, nullptr, {}, stop.get_token());
  s.begin_round(0, space());
  // Four trials handed out while none has finished: no wait for history.
  std::vector<Task> tasks;
  for (int i = 0; i < 4; ++i) tasks.push_back(*s.next());
  BOOST_TEST(!s.next().has_value());
  for (const auto& [id, ids] : sampler.seen) BOOST_TEST(ids.empty());
}

BOOST_AUTO_TEST_CASE(pruning_decisions_are_the_same_for_any_worker_count) {
  std::map<std::pair<std::int64_t, std::size_t>, std::string> decisions[3];
  std::map<std::int64_t, Trial> trials[3];
  for (int run = 0; run < 3; ++run) {
    RecordingSampler sampler;
    sampler.history = false;
    RecordingPruner pruner;
    std::stop_source stop;
    Scheduler s({10, 6, 5, 0, "recording", "recording", {}, {}}, sampler, &pruner, {}, stop.get_token());
    s.begin_round(0, space());
    trials[run] = simulate(s, 1 + run, 6, 100 + static_cast<unsigned>(run));
    decisions[run] = pruner.decisions;
  }
  BOOST_TEST(decisions[0] == decisions[1]);
  BOOST_TEST(decisions[0] == decisions[2]);
  int pruned = 0;
  for (const auto& [id, t] : trials[0]) {
    pruned += t.status == TrialStatus::Pruned;
    BOOST_TEST(t.status == trials[2][id].status);
    BOOST_TEST(t.scores == trials[2][id].scores);
    // only asked at even epochs
    if (t.status == TrialStatus::Pruned) BOOST_TEST(t.scores.size() % 2 == 0u);
  }
  BOOST_TEST(pruned > 0);
}

BOOST_AUTO_TEST_CASE(finishing_a_trial_says_what_the_journal_gets) {
  RecordingSampler sampler;
  RecordingPruner pruner;
  std::stop_source stop;
  // Trial 0 scores high, trial 1 low: trial 1 is stopped at epoch 2 of 4; at epoch 4 (the last)
  // a "stop" changes nothing.
  Scheduler s({3, 2, 5, 5, "recording", "recording", {}, {}}, sampler, &pruner, {}, stop.get_token());
  s.begin_round(0, space());
  const auto a = s.next(), b = s.next();
  BOOST_TEST(!s.report(a->id, 0.9));
  BOOST_TEST(!s.report(a->id, 0.9));
  BOOST_TEST(s.finish(a->id, TrialStatus::Ok)->status == TrialStatus::Ok);
  BOOST_TEST(!s.report(b->id, 0.1));
  BOOST_TEST(s.report(b->id, 0.1));  // epoch 2 = the last: decided, but it ran every epoch
  BOOST_TEST(s.finish(b->id, TrialStatus::Ok)->status == TrialStatus::Ok);
  // A trial cut short by a stop is not finished; a diverged one is, with its scores.
  const auto c = s.next();
  BOOST_TEST(!s.report(c->id, 0.5));
  stop.request_stop();
  BOOST_TEST(!s.finish(c->id, TrialStatus::Ok).has_value());
  BOOST_TEST(!s.next().has_value());
}

BOOST_AUTO_TEST_CASE(waits_end_when_the_search_stops) {
  RecordingSampler sampler;
  std::stop_source stop;
  Scheduler s({5, 1, 5, 0, "recording", "", {}, {}}, sampler, nullptr, {}, stop.get_token());
  s.begin_round(0, space());
  const auto first = s.next();  // trial 0 runs and never finishes
  std::optional<Task> second{Task{}};
  std::thread waiter([&] { second = s.next(); });  // trial 1 waits for trial 0 (lag 0)
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop.request_stop();
  waiter.join();
  BOOST_TEST(!second.has_value());
}

BOOST_AUTO_TEST_CASE(non_dominated_sorting_and_crowding_follow_nsga2) {
  // Two objectives, higher is better. Fronts: {a, b, c} (none dominates another), then {d, e}
  // (each dominated by b), then {f}; a tie in every objective dominates neither.
  const std::vector<std::vector<double>> p{{1, 5}, {3, 3}, {5, 1}, {2, 2}, {0.5, 2.5}, {0, 0}, {3, 3}};
  BOOST_TEST(dominates(p[1], p[3]));
  BOOST_TEST(!dominates(p[1], p[6]));
  BOOST_TEST(!dominates(p[0], p[2]));
  BOOST_TEST(pareto_ranks(p) == (std::vector<int>{1, 1, 1, 2, 2, 3, 1}));
  const auto d = crowding_distances(p, pareto_ranks(p));
  // Front 1 sorted by objective 0: a(1) b(3) g(3) c(5); spans 4 and 4. The extremes are infinite;
  // b and g sit between neighbours (a, g) and (b, c) in objective 0 and the same in objective 1.
  BOOST_TEST(std::isinf(d[0]));
  BOOST_TEST(std::isinf(d[2]));
  BOOST_TEST(d[1] == (3.0 - 1.0) / 4 + (5.0 - 3.0) / 4);
  BOOST_TEST(d[6] == (5.0 - 3.0) / 4 + (3.0 - 1.0) / 4);
  BOOST_TEST(std::isinf(d[5]));  // a front of one
  // The sampler's order: front 1 (extremes first, then by index), front 2, front 3.
  BOOST_TEST(sampler_order(p) == (std::vector<std::size_t>{0, 2, 1, 6, 3, 4, 5}));
}

BOOST_AUTO_TEST_CASE(with_objectives_a_sampler_sees_each_completed_trial_scored_by_its_place_on_the_front) {
  class Scores final : public Sampler {
   public:
    std::vector<Value> propose(const SearchSpace&, std::span<const Trial> history, std::int64_t, Rng&) override {
      for (const auto& t : history) seen[t.id] = t.scores.back();
      return {{"0.01", 0.01}};
    }
    std::map<std::int64_t, double> seen;
  } sampler;
  std::stop_source stop;
  std::map<std::int64_t, Trial> done;
  std::map<std::int64_t, std::vector<double>> objectives;
  // (accuracy, -parameters): trial 0 dominated by 1; 1 and 2 on the front; 3 pruned.
  const std::vector<std::vector<double>> points{{0.5, -200}, {0.6, -100}, {0.9, -300}, {0.95, -10}};
  for (std::int64_t id = 0; id < 4; ++id) {
    Trial t;
    t.id = id;
    t.values = {{"0.01", 0.01}};
    t.scores = {0.1, points[static_cast<std::size_t>(id)][0]};
    t.status = id == 3 ? TrialStatus::Pruned : TrialStatus::Ok;
    done[id] = t;
    objectives[id] = points[static_cast<std::size_t>(id)];
  }
  Scheduler s({5, 2, 5, 0, "scores", "", {}, {}}, sampler, nullptr, done, stop.get_token(), objectives);
  s.begin_round(0, space());
  BOOST_TEST(s.next()->id == 4);
  BOOST_TEST(sampler.seen[1] == 0.0);   // the front, extremes first in index order
  BOOST_TEST(sampler.seen[2] == -1.0);
  BOOST_TEST(sampler.seen[0] == -2.0);  // front 2
  BOOST_TEST(sampler.seen[3] == 0.95);  // pruned: its first objective's score, as without objectives
}

BOOST_AUTO_TEST_CASE(ped_anova_finds_the_hyperparameter_the_score_depends_on) {
  // 60 trials: the score is a peak in the log of lr, the choice of activation moves it a little,
  // and the uniform `noise` dimension never matters.
  SearchSpace sp;
  sp.dims.push_back({"optimizer.lr", Dimension::Type::LogUniform, 1e-4, 1.0, {}});
  sp.dims.push_back({"noise", Dimension::Type::Uniform, 0, 1, {}});
  sp.dims.push_back({"act", Dimension::Type::Choice, 0, 0, {"relu", "tanh", "sigmoid"}});
  std::mt19937 gen(7);
  const auto u = [&] { return static_cast<double>(gen()) / 4294967296.0; };
  std::vector<Trial> trials;
  for (int i = 0; i < 60; ++i) {
    Trial t;
    t.id = i;
    const double lr = std::exp(std::log(1e-4) + u() * std::log(1e4)), noise = u();
    const auto act = static_cast<std::size_t>(gen() % 3);
    t.values = {{"", lr}, {"", noise}, {sp.dims[2].choices[act], static_cast<double>(act)}};
    t.scores = {-std::abs(std::log10(lr) + 2) + (act == 0 ? 0.3 : 0.0)};
    t.status = i == 59 ? TrialStatus::Failed : TrialStatus::Ok;  // not counted
    trials.push_back(t);
  }
  const auto imp = ped_anova(sp, trials);
  BOOST_TEST_REQUIRE(imp.size() == 3u);
  BOOST_TEST(std::abs(imp[0] + imp[1] + imp[2] - 1) < 1e-12);
  BOOST_TEST(imp[0] > 0.6, imp[0]);
  BOOST_TEST(imp[1] < 0.1, imp[1]);
  BOOST_TEST(imp[2] > imp[1], imp[2] << " " << imp[1]);
  // Too few completed trials: nothing to say.
  BOOST_TEST(ped_anova(sp, std::vector<Trial>(trials.begin(), trials.begin() + 9)).empty());
}

BOOST_AUTO_TEST_CASE(a_resumed_scheduler_skips_the_journaled_trials_and_sees_them) {
  RecordingSampler sampler;
  std::stop_source stop;
  std::map<std::int64_t, Trial> done;
  for (std::int64_t id : {0, 1, 3}) {
    Trial t;
    t.id = id;
    t.values = {{"0.01", 0.01}};
    t.scores = {0.5};
    t.status = TrialStatus::Ok;
    done[id] = t;
  }
  Scheduler s({5, 1, 5, 0, "recording", "", {}, {}}, sampler, nullptr, done, stop.get_token());
  s.begin_round(0, space());
  const auto t2 = s.next();
  BOOST_TEST(t2->id == 2);
  BOOST_TEST(sampler.seen[2] == (std::vector<std::int64_t>{0, 1}));
  s.report(2, 0.4);
  s.finish(2, TrialStatus::Ok);
  const auto t4 = s.next();
  BOOST_TEST(t4->id == 4);
  BOOST_TEST(sampler.seen[4] == (std::vector<std::int64_t>{0, 1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(a_proposal_outside_the_space_names_the_sampler) {
  class Outside final : public Sampler {
   public:
    std::vector<Value> propose(const SearchSpace&, std::span<const Trial>, std::int64_t, Rng&) override {
      return {{"5", 5.0}};
    }
  } sampler;
  std::stop_source stop;
  Scheduler s({2, 1, 5, 0, "'outside' (plugin x 1.0, x.so)", "", {}, {}}, sampler, nullptr, {}, stop.get_token());
  s.begin_round(0, space());
  try {
    s.next();
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()) ==
               "sampler 'outside' (plugin x 1.0, x.so): trial 0: optimizer.lr: 5 is outside [0.0001, 1]");
  }
}

BOOST_AUTO_TEST_CASE(narrowing_shrinks_to_the_span_of_the_top_trials) {
  SearchSpace sp = space();
  sp.dims.push_back({"optimizer.type", Dimension::Type::Choice, 0, 0, {"sgd", "adam"}});
  std::vector<Trial> done;
  const double lrs[] = {1e-3, 3e-1, 2e-2, 8e-1, 1e-4, 5e-1, 4e-3, 7e-2};
  const double scores[] = {0.2, 0.8, 0.5, 0.75, 0.1, 0.7, 0.3, 0.6};
  for (int i = 0; i < 8; ++i) {
    Trial t;
    t.id = i;
    t.values = {{"", lrs[i]}, {"sgd", 0}};
    t.scores = {scores[i]};
    t.status = i == 4 ? TrialStatus::Diverged : TrialStatus::Ok;
    done.push_back(t);
  }
  // keep 0.4 of 7 ranked trials = 3: scores 0.8, 0.75, 0.7 -> lr in [0.3, 0.8].
  const SearchSpace narrowed = narrow(sp, done, 0.4);
  BOOST_TEST(narrowed.dims[0].lo == 3e-1);
  BOOST_TEST(narrowed.dims[0].hi == 8e-1);
  BOOST_TEST((narrowed.dims[0].type == Dimension::Type::LogUniform));
  BOOST_TEST(narrowed.dims[1].choices.size() == 2u);
  BOOST_TEST(inside(done[1], narrowed));
  BOOST_TEST(!inside(done[0], narrowed));
}

BOOST_AUTO_TEST_CASE(journal_records_read_back_and_a_bad_one_is_named) {
  TempDir dir;
  Journal journal(dir / "journal.jsonl", "fp", "val_accuracy");
  Trial t;
  t.id = 7;
  t.round = 1;
  t.values = {{"0.01", 0.01}};
  t.scores = {0.25, 0.5};
  t.status = TrialStatus::Pruned;
  const auto line = trial_to_json(t, space(), 1.23456, "");
  BOOST_TEST(line["round"] == 2);
  BOOST_TEST(line["status"] == "pruned");
  BOOST_TEST(line["score"] == 0.5);
  BOOST_TEST(line["seconds"] == 1.235);
  journal.append(line);
  const Trial back = trial_from_json(journal.finished().at(7), space(), journal);
  BOOST_TEST(back.id == 7);
  BOOST_TEST(back.round == 1);
  BOOST_TEST(back.scores == t.scores);
  BOOST_TEST((back.status == TrialStatus::Pruned));
  BOOST_TEST(back.values[0].text == "0.01");
  auto bad = line;
  bad["status"] = "halted";
  BOOST_CHECK_EXCEPTION(trial_from_json(bad, space(), journal), InputError, [](const InputError& e) {
    return std::string(e.what()).find(
               "journal.jsonl: trial 7 is not a journal record of this search (unknown status "
               "'halted')") != std::string::npos;
  });
  auto diverged = t;
  diverged.status = TrialStatus::Diverged;
  BOOST_TEST(trial_to_json(diverged, space(), 0, "nan loss")["score"].is_null());
}

BOOST_AUTO_TEST_CASE(the_reporter_ranks_shows_the_metric_in_its_direction_and_writes_the_files) {
  TempDir dir;
  SearchSpec spec;
  spec.space = space();
  spec.metric = {"val_loss", lamina::detail::Metric::Direction::Minimize, ""};
  std::ostringstream out;
  Reporter reporter(spec, out, false, 3);
  std::vector<Trial> round;
  const double losses[] = {0.9, 0.3, 0.6};
  for (int i = 0; i < 3; ++i) {
    Trial t;
    t.id = i;
    t.values = {{std::to_string(0.1 * (i + 1)), 0.1 * (i + 1)}};
    t.scores = {spec.metric.score(losses[i] + 0.1), spec.metric.score(losses[i])};
    t.status = TrialStatus::Ok;
    round.push_back(t);
    reporter.trial_finished(t, 0.5, "", i + 1, i + 1);
  }
  round[2].status = TrialStatus::Pruned;
  round[2].scores.pop_back();  // pruned at epoch 1 with loss 0.7
  BOOST_TEST(out.str().find("trial    1 (round 1) ok       val_loss 0.3000 | optimizer.lr 0.2") != std::string::npos,
             out.str());
  reporter.write_results(dir.path(), {spec.space}, {round},
                         [](const Trial& t) { return "best: " + t.values[0].text + "\n"; });
  const std::string csv = read_file(dir / "results.csv");
  BOOST_TEST(csv.substr(0, csv.find('\n')) == "rank,trial,round,status,epochs,val_loss,optimizer.lr");
  BOOST_TEST(csv.find("1,1,1,ok,2,0.300000,") != std::string::npos, csv);
  BOOST_TEST(csv.find("2,2,1,pruned,1,0.700000,") != std::string::npos, csv);
  BOOST_TEST(csv.find("3,0,1,ok,2,0.900000,") != std::string::npos, csv);
  const auto summary = nlohmann::json::parse(read_file(dir / "summary.json"));
  BOOST_TEST(summary["best_score"].get<double>() == 0.3, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(summary["trial_epochs"] == 5);
  BOOST_TEST(summary["trials_to_best"] == 2);
  BOOST_TEST(summary["pruned"] == 1);
  BOOST_TEST(read_file(dir / "best.yaml").find("best: 0.2") != std::string::npos);
  const auto rounds = nlohmann::json::parse(read_file(dir / "rounds.json"));
  BOOST_TEST(rounds[0]["space"]["optimizer.lr"]["type"] == "log_uniform");
  BOOST_TEST(out.str().find("Best-1 (val loss 0.3000) | optimizer.lr 2.0e-01") != std::string::npos, out.str());
}

BOOST_AUTO_TEST_CASE(protocol_messages_carry_what_the_other_end_reads) {
  const auto task = nlohmann::json::parse(protocol::task(Task{4, 0, {}}, {"optimizer.lr=0.1", "train.epochs=3"}, {7, 9}));
  BOOST_TEST(task["trial"] == 4);
  BOOST_TEST(task["overrides"][1] == "train.epochs=3");
  BOOST_TEST(task["seeds"][1] == 9);
  BOOST_TEST(nlohmann::json::parse(protocol::stop()).contains("stop"));
  BOOST_TEST(nlohmann::json::parse(protocol::score(0.25))["score"] == 0.25);
  BOOST_TEST(nlohmann::json::parse(protocol::prune(true))["prune"] == true);
  const auto o = nlohmann::json::parse(protocol::outcome({TrialStatus::Diverged, "nan", {{0.5, 0.6}, {0.4}}, {0.5, 7960}}));
  BOOST_TEST(o["status"] == "diverged");
  BOOST_TEST(o["objectives"][1] == 7960);
  BOOST_TEST(o["repeat_scores"][1][0] == 0.4);
  BOOST_TEST(o["error"] == "nan");
  BOOST_TEST(nlohmann::json::parse(protocol::fatal("rank 2: out of memory"))["fatal"] == "rank 2: out of memory");
}
