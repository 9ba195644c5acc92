// The samplers plugin through the real loader: random's distribution, TPE's start-up, its
// determinism, and that it learns (it finds a synthetic optimum better than random does).
#define BOOST_TEST_MODULE samplers
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/sampler.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Sampler> make(const std::string& spec) {
  return builtin_registry().create<Sampler>(Config::parse(spec));
}

SearchSpace space() {
  SearchSpace s;
  s.dims.push_back({"optimizer.lr", Dimension::Type::LogUniform, 1e-6, 1e-2, {}});
  s.dims.push_back({"layers.3.ratio", Dimension::Type::Uniform, 0.0, 0.5, {}});
  s.dims.push_back({"layers.0.units", Dimension::Type::IntUniform, 10, 14, {}});
  s.dims.push_back({"optimizer.type", Dimension::Type::Choice, 0, 0, {"sgd", "adam", "momentum"}});
  return s;
}

std::vector<Value> propose(Sampler& s, std::span<const Trial> history, std::int64_t id, std::uint64_t seed = 7) {
  Rng rng(seed, Rng::derived(StreamFamily::TrialProposal, static_cast<std::uint64_t>(id)));
  return s.propose(space(), history, id, rng);
}

// Best at lr = 1e-4, ratio 0.1, 12 units, adam; every term costs.
double objective(const std::vector<Value>& v) {
  const double l = std::log10(v[0].number) + 4;
  return 1.0 - 0.1 * l * l - (v[1].number - 0.1) * (v[1].number - 0.1) - 0.02 * std::abs(v[2].number - 12) -
         (v[3].number == 1 ? 0 : 0.2);
}

// A serial search of n trials with `sampler`; returns the best objective after each trial.
std::vector<double> search(Sampler& s, int n, std::uint64_t seed) {
  std::vector<Trial> done;
  std::vector<double> best;
  for (int id = 0; id < n; ++id) {
    Trial t;
    t.id = id;
    t.values = propose(s, done, id, seed);
    t.scores = {objective(t.values)};
    t.status = TrialStatus::Ok;
    best.push_back(std::max(best.empty() ? -INFINITY : best.back(), t.scores[0]));
    done.push_back(t);
  }
  return best;
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_samples_respect_bounds_and_log_uniform_exponents_are_uniform) {
  auto s = make("random");
  BOOST_TEST(!s->uses_history());
  const SearchSpace sp = space();
  std::vector<int> decade(4), units(5), choice(3);
  const int n = 8000;
  for (int id = 0; id < n; ++id) {
    const auto v = propose(*s, {}, id);
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

BOOST_AUTO_TEST_CASE(tpe_starts_with_the_random_samplers_proposals) {
  auto random = make("random");
  auto tpe = make("{type: tpe, startup_trials: 5}");
  BOOST_TEST(tpe->uses_history());
  std::vector<Trial> done;
  for (int id = 0; id < 5; ++id) {
    const auto a = propose(*random, {}, id), b = propose(*tpe, done, id);
    for (std::size_t d = 0; d < a.size(); ++d) BOOST_TEST(a[d].text == b[d].text);
    Trial t;
    t.id = id;
    t.values = b;
    t.scores = {objective(b)};
    t.status = TrialStatus::Ok;
    done.push_back(t);
  }
  // From the sixth trial on it uses the model: the proposal differs from random's.
  const auto a = propose(*random, {}, 5), b = propose(*tpe, done, 5);
  BOOST_TEST((a[0].text != b[0].text || a[1].text != b[1].text));
}

BOOST_AUTO_TEST_CASE(tpe_is_a_function_of_the_trials_seen_and_the_stream) {
  for (const char* spec : {"tpe", "{type: tpe, multivariate: true}"}) {
    auto a = make(spec), b = make(spec);
    std::vector<Trial> done;
    for (int id = 0; id < 30; ++id) {
      const auto v = propose(*a, done, id);
      const auto w = propose(*b, done, id);  // another instance: a resumed search
      for (std::size_t d = 0; d < v.size(); ++d) BOOST_TEST_REQUIRE(v[d].text == w[d].text);
      Trial t;
      t.id = id;
      t.values = v;
      t.status = id % 4 == 3 ? TrialStatus::Diverged : TrialStatus::Ok;
      if (t.status == TrialStatus::Ok) t.scores = {objective(v)};
      done.push_back(t);
    }
  }
}

BOOST_AUTO_TEST_CASE(tpe_finds_a_synthetic_optimum_sooner_than_random) {
  // Over 8 seeds of 60 trials: the median best after 30 TPE trials beats random's after 60.
  for (const char* spec : {"tpe", "{type: tpe, multivariate: true}"}) {
    std::vector<double> tpe30, random60;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      auto t = make(spec);
      auto r = make("random");
      tpe30.push_back(search(*t, 60, seed)[29]);
      random60.push_back(search(*r, 60, seed)[59]);
    }
    std::sort(tpe30.begin(), tpe30.end());
    std::sort(random60.begin(), random60.end());
    BOOST_TEST_MESSAGE(spec << ": median best after 30 " << (tpe30[3] + tpe30[4]) / 2 << ", random after 60 "
                            << (random60[3] + random60[4]) / 2);
    BOOST_TEST((tpe30[3] + tpe30[4]) / 2 > (random60[3] + random60[4]) / 2, spec);
  }
}

BOOST_AUTO_TEST_CASE(tpe_ranks_completed_trials_above_pruned_and_diverged_ones) {
  // Ten trials at lr 1e-3 completed with a low score, ten at lr 1e-6 pruned early with a high
  // one, ten at 1e-2 diverged: the completed ones are the good ones, so proposals go near 1e-3.
  auto tpe = make("{type: tpe, startup_trials: 1, gamma: 0.3}");
  std::vector<Trial> done;
  for (int i = 0; i < 30; ++i) {
    Trial t;
    t.id = i;
    const double lr = i < 10 ? 1e-3 : i < 20 ? 1e-6 : 1e-2;
    t.values = {{"", lr}, {"", 0.25}, {"", 12}, {"sgd", 0}};
    t.status = i < 10 ? TrialStatus::Ok : i < 20 ? TrialStatus::Pruned : TrialStatus::Diverged;
    if (i < 10) t.scores = {0.1, 0.2, 0.3};
    if (i >= 10 && i < 20) t.scores = {0.9};
    done.push_back(t);
  }
  int near = 0;
  for (int id = 30; id < 50; ++id) near += std::abs(std::log10(propose(*tpe, done, id)[0].number) + 3) < 1;
  BOOST_TEST(near >= 16, near << " of 20 proposals within a decade of 1e-3");
}

BOOST_AUTO_TEST_CASE(tpe_keys_are_checked) {
  BOOST_CHECK_THROW(make("{type: tpe, gamma: 1.5}"), InputError);
  BOOST_CHECK_THROW(make("{type: tpe, candidates: 0}"), InputError);
  BOOST_CHECK_THROW(make("{type: tpe, startup: 3}"), InputError);
}
