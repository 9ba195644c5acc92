// Conditional search spaces without training (search/space_tree.hpp): proposals group by group,
// each from the trials where its group was active; a point written into the model; what is
// and is not a point; narrowing per branch; inactive values in the journal.
#define BOOST_TEST_MODULE core_space_tree
#include <boost/test/unit_test.hpp>
#include <map>
#include <mutex>

#include "search/journal.hpp"
#include "search/scheduler.hpp"
#include "search/space_tree.hpp"
#include "search/spec.hpp"
#include "test_support.hpp"

using namespace lamina;
using namespace lamina::detail;

namespace {

// optimizer: {choice: [{type: sgd, lr: ..}, {type: momentum, lr: .., momentum: ..}]}, lambda.
struct Fixture {
  SearchSpace space;
  SpaceTree tree;
  Fixture() {
    space.dims = {
        {"optimizer", Dimension::Type::Choice, 0, 0,
         {"{type: sgd, lr: {log_uniform: [0.001, 0.1]}}",
          "{type: momentum, lr: {log_uniform: [0.001, 0.1]}, momentum: {uniform: [0.8, 0.99]}}"}},
        {"optimizer@sgd.lr", Dimension::Type::LogUniform, 0.001, 0.1, {}},
        {"optimizer@momentum.lr", Dimension::Type::LogUniform, 0.001, 0.1, {}},
        {"optimizer@momentum.momentum", Dimension::Type::Uniform, 0.8, 0.99, {}},
        {"regularizer.lambda", Dimension::Type::LogUniform, 1e-8, 1e-4, {}},
    };
    tree.conditions = {{-1, -1, {}, {"sgd", "momentum"}}, {0, 0, {"lr"}, {}}, {0, 1, {"lr"}, {}},
                       {0, 1, {"momentum"}, {}}, {-1, -1, {}, {}}};
  }
  Value choice(int i) const { return {space.dims[0].choices[static_cast<std::size_t>(i)], static_cast<double>(i)}; }
  // A finished trial on branch `branch` (0 sgd, 1 momentum).
  Trial trial(std::int64_t id, int branch, double score) const {
    Trial t;
    t.id = id;
    t.status = TrialStatus::Ok;
    t.scores = {score};
    t.values = {choice(branch), inactive_value(), inactive_value(), inactive_value(), {"1e-06", 1e-6}};
    if (branch == 0) {
      t.values[1] = {"0.01", 0.01 + 0.001 * static_cast<double>(id)};
    } else {
      t.values[2] = {"0.02", 0.02 + 0.001 * static_cast<double>(id)};
      t.values[3] = {"0.9", 0.9};
    }
    return t;
  }
};

// Chooses the alternative given by `branch`, numbers at the low end; records each call's
// dimensions and the ids of the history it saw.
class Recorder final : public Sampler {
 public:
  int branch = 1;
  std::vector<std::pair<std::vector<std::string>, std::vector<std::int64_t>>> calls;
  std::vector<Value> propose(const SearchSpace& s, std::span<const Trial> history, std::int64_t, Rng&) override {
    std::vector<std::string> paths;
    std::vector<std::int64_t> ids;
    for (const auto& d : s.dims) paths.push_back(d.path);
    for (const auto& t : history) {
      ids.push_back(t.id);
      BOOST_TEST(t.values.size() == s.dims.size());  // reduced to the group's dimensions
    }
    calls.emplace_back(paths, ids);
    std::vector<Value> out;
    for (const auto& d : s.dims) out.push_back(d.type == Dimension::Type::Choice ? value_of(d, branch) : value_of(d, d.lo));
    return out;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(proposals_go_group_by_group_each_from_the_trials_where_it_was_active) {
  Fixture f;
  const std::vector<Trial> history{f.trial(0, 0, 0.5), f.trial(1, 1, 0.6), f.trial(2, 0, 0.7), f.trial(3, 1, 0.4)};
  Recorder r;
  Rng rng(1);
  const std::vector<Value> v = propose_tree(r, "recorder", f.space, f.tree, history, 4, rng);
  BOOST_TEST_REQUIRE(r.calls.size() == 2u);
  BOOST_TEST((r.calls[0].first == std::vector<std::string>{"optimizer", "regularizer.lambda"}));
  BOOST_TEST((r.calls[0].second == std::vector<std::int64_t>{0, 1, 2, 3}));
  BOOST_TEST((r.calls[1].first == std::vector<std::string>{"optimizer@momentum.lr", "optimizer@momentum.momentum"}));
  BOOST_TEST((r.calls[1].second == std::vector<std::int64_t>{1, 3}));  // the momentum trials alone
  BOOST_TEST(v[0].number == 1.0);
  BOOST_TEST(is_inactive(v[1]));
  BOOST_TEST(!is_inactive(v[2]));
  BOOST_TEST(!is_inactive(v[3]));
  BOOST_TEST(outside_tree(v, f.space, f.tree).empty());
  // The other branch: the sgd trials alone.
  Recorder sgd;
  sgd.branch = 0;
  const auto w = propose_tree(sgd, "recorder", f.space, f.tree, history, 4, rng);
  BOOST_TEST((sgd.calls[1].second == std::vector<std::int64_t>{0, 2}));
  BOOST_TEST(is_inactive(w[2]));
}

BOOST_AUTO_TEST_CASE(a_point_is_written_into_the_model_as_its_alternative_with_the_values_in_place) {
  Fixture f;
  Trial t = f.trial(0, 1, 0.5);
  t.values[2] = {"0.02", 0.02};
  const auto set = space_overrides(f.space, f.tree, t.values);
  BOOST_TEST_REQUIRE(set.size() == 2u);
  BOOST_TEST(set[0] == "optimizer={type: momentum, lr: 0.02, momentum: 0.9}");
  BOOST_TEST(set[1] == "regularizer.lambda=1e-06");
  BOOST_TEST(shown_value(f.tree, t.values, 0) == "momentum");
  BOOST_TEST(shown_value(f.tree, t.values, 1) == "");
  BOOST_TEST(shown_value(f.tree, t.values, 2) == "0.02");
}

BOOST_AUTO_TEST_CASE(a_value_where_its_branch_is_not_taken_or_none_where_it_is_is_not_a_point) {
  Fixture f;
  Trial t = f.trial(0, 0, 0.5);
  t.values[2] = {"0.02", 0.02};
  BOOST_TEST(outside_tree(t.values, f.space, f.tree).find("optimizer@momentum.lr: a value (0.02) where it is "
                                                          "inactive") == 0u);
  t = f.trial(0, 1, 0.5);
  t.values[3] = inactive_value();
  BOOST_TEST(outside_tree(t.values, f.space, f.tree) == "optimizer@momentum.momentum: no value, though it is active");
  t = f.trial(0, 1, 0.5);
  t.values[3] = {"1.5", 1.5};
  BOOST_TEST(outside_tree(t.values, f.space, f.tree).find("optimizer@momentum.momentum: 1.5 is outside") == 0u);
}

BOOST_AUTO_TEST_CASE(each_branch_narrows_on_the_trials_that_tried_it) {
  Fixture f;
  // sgd trials 0, 2, 4 (lr 0.010, 0.012, 0.014), momentum trials 1, 3, 5 (lr 0.021, 0.023, 0.025);
  // the best sgd trials are 2 and 4, the best momentum trials 1 and 3.
  const std::vector<Trial> round{f.trial(0, 0, 0.1), f.trial(1, 1, 0.9), f.trial(2, 0, 0.5),
                                 f.trial(3, 1, 0.8), f.trial(4, 0, 0.6), f.trial(5, 1, 0.2)};
  const SearchSpace n = narrow(f.space, round, 0.5);
  BOOST_TEST(n.dims[1].lo == round[2].values[1].number);
  BOOST_TEST(n.dims[1].hi == round[4].values[1].number);
  BOOST_TEST(n.dims[2].lo == round[1].values[2].number);
  BOOST_TEST(n.dims[2].hi == round[3].values[2].number);
  BOOST_TEST(n.dims[4].lo == 1e-6);  // lambda: the same value in every trial
  BOOST_TEST(n.dims[4].hi == 1e-6);
}

BOOST_AUTO_TEST_CASE(the_journal_leaves_inactive_values_out_and_reads_them_back_as_inactive) {
  Fixture f;
  lamina::test::TempDir dir;
  Journal journal(dir / "journal.jsonl", "fp", "val_accuracy");
  const Trial t = f.trial(7, 0, 0.5);
  const auto line = trial_to_json(t, f.space, 1.0, "");
  BOOST_TEST(line["values"].size() == 3u);
  BOOST_TEST(!line["values"].contains("optimizer@momentum.lr"));
  const Trial back = trial_from_json(line, f.space, journal);
  BOOST_TEST(is_inactive(back.values[2]));
  BOOST_TEST(is_inactive(back.values[3]));
  BOOST_TEST(back.values[1].number == t.values[1].number);
  BOOST_TEST(outside_tree(back.values, f.space, f.tree).empty());
}

BOOST_AUTO_TEST_CASE(a_reader_of_the_fingerprint_names_a_branching_choices_alternatives) {
  Fixture f;
  BOOST_TEST((branch_names(f.space.dims, 0) == std::vector<std::string>{"sgd", "momentum"}));
  BOOST_TEST(branch_names(f.space.dims, 1).empty());  // not a choice
  SearchSpace flat;
  flat.dims = {{"layers.1", Dimension::Type::Choice, 0, 0, {"{type: relu}", "{type: tanh}"}}};
  BOOST_TEST(branch_names(flat.dims, 0).empty());  // a choice without dimensions inside
  // Alternatives of one type are named by their index.
  SearchSpace same;
  same.dims = {{"layers.2", Dimension::Type::Choice, 0, 0,
                {"{type: affine, units: 10}", "{type: affine, units: {int_uniform: [5, 20]}}"}},
               {"layers.2@1.units", Dimension::Type::IntUniform, 5, 20, {}}};
  BOOST_TEST((branch_names(same.dims, 0) == std::vector<std::string>{"0", "1"}));
}
