// random_search through the real loader: sampling, pruning at rungs, narrowing.
#define BOOST_TEST_MODULE random_search
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/search_strategy.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<SearchStrategy> make() {
  return builtin_registry().create<SearchStrategy>(Config::parse("random_search"));
}

SearchSpace space() {
  SearchSpace s;
  s.dims.push_back({"optimizer.lr", Dimension::Type::LogUniform, 1e-6, 1e-2, {}});
  s.dims.push_back({"layers.3.ratio", Dimension::Type::Uniform, 0.0, 0.5, {}});
  s.dims.push_back({"layers.0.units", Dimension::Type::IntUniform, 10, 14, {}});
  s.dims.push_back({"optimizer.type", Dimension::Type::Choice, 0, 0, {"sgd", "adam", "momentum"}});
  return s;
}

TrialReport trial(std::int64_t id, std::vector<double> scores, double lr = 1e-3) {
  TrialReport t;
  t.id = id;
  t.scores = std::move(scores);
  t.values = {{"", lr}, {"", 0.1}, {"", 12}, {"sgd", 0}};
  t.finished = true;
  t.status = "ok";
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(samples_respect_bounds_and_log_uniform_exponents_are_uniform) {
  auto s = make();
  const SearchSpace sp = space();
  std::vector<int> decade(4), units(5), choice(3);
  const int n = 8000;
  for (int id = 0; id < n; ++id) {
    Rng rng(7, 1000 + static_cast<std::uint64_t>(id));
    const auto v = s->propose(sp, id, rng);
    BOOST_TEST_REQUIRE(v.size() == 4u);
    BOOST_TEST_REQUIRE((v[0].number >= 1e-6 && v[0].number <= 1e-2));
    BOOST_TEST_REQUIRE((v[1].number >= 0.0 && v[1].number <= 0.5));
    BOOST_TEST_REQUIRE((v[2].number >= 10 && v[2].number <= 14 && std::floor(v[2].number) == v[2].number));
    BOOST_TEST_REQUIRE(std::stod(v[0].text) == v[0].number, boost::test_tools::tolerance(1e-5));
    ++decade[std::min(3, static_cast<int>(std::floor(std::log10(v[0].number) + 6)))];
    ++units[static_cast<std::size_t>(v[2].number - 10)];
    ++choice[static_cast<std::size_t>(v[3].number)];
    BOOST_TEST_REQUIRE(v[3].text == sp.dims[3].choices[static_cast<std::size_t>(v[3].number)]);
  }
  // Each decade of 1e-6..1e-2 holds a quarter of the samples: chi-square with 3 degrees of
  // freedom below 11.3 (p = 0.01) for this fixed seed.
  double chi2 = 0;
  for (int c : decade) chi2 += std::pow(c - n / 4.0, 2) / (n / 4.0);
  BOOST_TEST(chi2 < 11.3);
  for (int c : units) BOOST_TEST(static_cast<double>(c) == n / 5.0, boost::test_tools::tolerance(0.1));
  for (int c : choice) BOOST_TEST(static_cast<double>(c) == n / 3.0, boost::test_tools::tolerance(0.1));
}

BOOST_AUTO_TEST_CASE(proposals_depend_only_on_the_stream) {
  auto s = make();
  Rng a(3, 1005), b(3, 1005);
  BOOST_TEST(s->propose(space(), 5, a)[0].text == s->propose(space(), 5, b)[0].text);
}

BOOST_AUTO_TEST_CASE(pruning_keeps_the_top_third_at_rungs_only) {
  auto s = make();
  const PruningRule rule{true, 2, 3};
  // Rungs at epochs 2, 6, 18. Earlier trials' scores at epoch 2: 0.9, 0.8, 0.7, 0.6, 0.5.
  std::vector<TrialReport> earlier;
  for (int i = 0; i < 5; ++i) earlier.push_back(trial(i, {0.1, 0.9 - 0.1 * i, 0.5}));
  // n = 6 at the rung, keep the top max(1, 6/3) = 2: a score of 0.85 ranks 2nd and goes on,
  // 0.75 ranks 3rd and stops.
  BOOST_TEST(!s->should_stop(trial(9, {0.0, 0.85}), earlier, rule));
  BOOST_TEST(s->should_stop(trial(9, {0.0, 0.75}), earlier, rule));
  // Epochs 1, 3, 4 are not rungs: nobody stops there.
  BOOST_TEST(!s->should_stop(trial(9, {0.0}), earlier, rule));
  BOOST_TEST(!s->should_stop(trial(9, {0.0, 0.9, 0.0, 0.0}), earlier, rule));
  // At epoch 6 only trials that reached it count: none did, so the trial goes on.
  BOOST_TEST(!s->should_stop(trial(9, {0.0, 0.9, 0, 0, 0, 0.01}), earlier, rule));
  // The first trial never stops, and nothing stops with pruning off.
  BOOST_TEST(!s->should_stop(trial(0, {0.0, 0.0}), {}, rule));
  BOOST_TEST(!s->should_stop(trial(9, {0.0, 0.0}), earlier, PruningRule{false, 2, 3}));
}

BOOST_AUTO_TEST_CASE(narrowing_shrinks_to_the_span_of_the_top_trials) {
  auto s = make();
  std::vector<TrialReport> done;
  const double lrs[] = {1e-5, 3e-3, 2e-4, 8e-3, 1e-6, 5e-3, 4e-5, 7e-4};
  const double scores[] = {0.2, 0.8, 0.5, 0.75, 0.1, 0.7, 0.3, 0.6};
  for (int i = 0; i < 8; ++i) done.push_back(trial(i, {scores[i]}, lrs[i]));
  done[4].status = "diverged";
  // keep 0.4 of 7 ranked trials = 3: scores 0.8, 0.75, 0.7 -> lr in [3e-3, 8e-3].
  const SearchSpace narrowed = s->narrow(space(), done, 0.4);
  BOOST_TEST(narrowed.dims[0].lo == 3e-3);
  BOOST_TEST(narrowed.dims[0].hi == 8e-3);
  BOOST_TEST((narrowed.dims[0].type == Dimension::Type::LogUniform));
  BOOST_TEST(narrowed.dims[3].choices.size() == 3u);  // choices are kept
  // Samples of the next round stay inside.
  Rng rng(1, 1);
  for (int i = 0; i < 100; ++i) {
    const double v = s->propose(narrowed, i, rng)[0].number;
    BOOST_TEST_REQUIRE((v >= 3e-3 && v <= 8e-3));
  }
}
