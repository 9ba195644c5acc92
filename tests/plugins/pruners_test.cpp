// The pruners plugin through the real loader: none, ASHA's rungs and quotas, the median rule.
#define BOOST_TEST_MODULE pruners
#include <boost/test/unit_test.hpp>
#include <lamina/pruner.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Pruner> make(const std::string& spec) { return builtin_registry().create<Pruner>(Config::parse(spec)); }

Trial trial(std::int64_t id, std::vector<double> scores) {
  Trial t;
  t.id = id;
  t.scores = std::move(scores);
  t.status = TrialStatus::Ok;
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(none_never_decides) {
  auto p = make("none");
  for (int e = 1; e < 100; ++e) BOOST_TEST(!p->decides_at(e));
  BOOST_TEST(!p->should_prune(trial(3, {0.0}), std::vector<Trial>{trial(0, {1.0}), trial(1, {1.0})}));
}

BOOST_AUTO_TEST_CASE(asha_keeps_the_top_third_at_rungs_only) {
  auto p = make("{type: asha, min_epochs: 2, reduction: 3}");
  // Rungs at epochs 2, 6, 18.
  for (int e = 1; e <= 20; ++e) BOOST_TEST(p->decides_at(e) == (e == 2 || e == 6 || e == 18), "epoch " << e);
  // Earlier trials' scores at epoch 2: 0.9, 0.8, 0.7, 0.6, 0.5.
  std::vector<Trial> earlier;
  for (int i = 0; i < 5; ++i) earlier.push_back(trial(i, {0.1, 0.9 - 0.1 * i, 0.5}));
  // n = 6 at the rung, keep the top max(1, 6/3) = 2: a score of 0.85 ranks 2nd and goes on,
  // 0.75 ranks 3rd and stops.
  BOOST_TEST(!p->should_prune(trial(9, {0.0, 0.85}), earlier));
  BOOST_TEST(p->should_prune(trial(9, {0.0, 0.75}), earlier));
  // Epochs 1, 3, 4 are not rungs: nobody stops there.
  BOOST_TEST(!p->should_prune(trial(9, {0.0}), earlier));
  BOOST_TEST(!p->should_prune(trial(9, {0.0, 0.9, 0.0, 0.0}), earlier));
  // At epoch 6 only trials that reached it count: none did, so the trial goes on.
  BOOST_TEST(!p->should_prune(trial(9, {0.0, 0.9, 0, 0, 0, 0.01}), earlier));
  // The first trial never stops.
  BOOST_TEST(!p->should_prune(trial(0, {0.0, 0.0}), {}));
}

BOOST_AUTO_TEST_CASE(median_stops_a_trial_whose_best_is_below_the_median_at_its_epoch) {
  auto p = make("{type: median, warmup_epochs: 1, min_trials: 3}");
  BOOST_TEST(!p->decides_at(1));
  BOOST_TEST(p->decides_at(2));
  std::vector<Trial> earlier{trial(0, {0.1, 0.5}), trial(1, {0.1, 0.6}), trial(2, {0.1, 0.7, 0.8})};
  // Median at epoch 2 of 0.5, 0.6, 0.7 is 0.6.
  BOOST_TEST(p->should_prune(trial(5, {0.3, 0.55}), earlier));
  BOOST_TEST(!p->should_prune(trial(5, {0.3, 0.65}), earlier));
  // The trial's best so far counts, not its last score (Optuna's rule).
  BOOST_TEST(!p->should_prune(trial(5, {0.62, 0.4}), earlier));
  // Within the warm-up nothing stops; at epoch 3 only one earlier trial got there (< min_trials).
  BOOST_TEST(!p->should_prune(trial(5, {0.0}), earlier));
  BOOST_TEST(!p->should_prune(trial(5, {0.0, 0.7, 0.0}), earlier));
  // An even count takes the mean of the middle two: 0.5, 0.6, 0.7, 0.8 -> 0.65.
  earlier.push_back(trial(3, {0.1, 0.8}));
  BOOST_TEST(p->should_prune(trial(5, {0.3, 0.64}), earlier));
  BOOST_TEST(!p->should_prune(trial(5, {0.3, 0.66}), earlier));
}

BOOST_AUTO_TEST_CASE(pruner_keys_are_checked) {
  BOOST_CHECK_THROW(make("{type: asha, reduction: 1}"), InputError);
  BOOST_CHECK_THROW(make("{type: median, min_trials: 0}"), InputError);
  BOOST_CHECK_THROW(make("{type: median, warmup: 2}"), InputError);
}
