#define BOOST_TEST_MODULE rng
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/rng.hpp>
#include <vector>

using lamina::Rng;

BOOST_AUTO_TEST_CASE(uniform_stays_in_the_unit_interval_with_the_right_mean) {
  Rng r(1);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const float u = r.uniform();
    BOOST_TEST_REQUIRE((u >= 0.0f && u < 1.0f));
    sum += u;
  }
  BOOST_TEST(sum / 100000 == 0.5, boost::test_tools::tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(normal_has_the_requested_moments) {
  Rng r(2);
  double s = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double v = r.normal(1.0f, 3.0f);
    s += v;
    sq += v * v;
  }
  const double mean = s / n;
  BOOST_TEST(mean == 1.0, boost::test_tools::tolerance(0.02));
  BOOST_TEST(std::sqrt(sq / n - mean * mean) == 3.0, boost::test_tools::tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(below_covers_every_value_evenly) {
  Rng r(3);
  std::vector<int> counts(7);
  for (int i = 0; i < 70000; ++i) ++counts[r.below(7)];
  for (int c : counts) BOOST_TEST(static_cast<double>(c) == 10000.0, boost::test_tools::tolerance(0.05));
}

BOOST_AUTO_TEST_CASE(streams_are_independent_and_copies_replay) {
  Rng a(42, Rng::Stream::Init), b(42, Rng::Stream::Shuffle), c(42, Rng::Stream::Init), d(43, Rng::Stream::Init);
  const auto x = a.next();
  BOOST_TEST(x == c.next());
  BOOST_TEST(x != b.next());
  BOOST_TEST(x != d.next());
  Rng saved = a;
  const auto y = a.next();
  BOOST_TEST(saved.next() == y);
}

BOOST_AUTO_TEST_CASE(derived_stream_ids_of_different_families_never_meet) {
  using lamina::StreamFamily;
  // The collision that was: trial 1000's proposal stream was trial 0's seed stream.
  BOOST_TEST(Rng::derived(StreamFamily::TrialProposal, 1000) != Rng::derived(StreamFamily::TrialSeed, 0));
  // Each family's range lies above every fixed stream and apart from every other family's.
  const StreamFamily families[] = {StreamFamily::TrialProposal, StreamFamily::TrialSeed, StreamFamily::RankLayers,
                                   StreamFamily::User};
  const std::uint64_t indices[] = {0, 1, 999, 1000, 1'000'000, Rng::kIndexLimit - 1};
  for (auto f : families) {
    for (auto g : families) {
      for (auto i : indices) {
        for (auto j : indices) {
          if (f != g) BOOST_TEST(Rng::derived(f, i) != Rng::derived(g, j));
        }
      }
    }
    BOOST_TEST(Rng::derived(f, 0) > static_cast<std::uint64_t>(Rng::Stream::User));
  }
  // Two-level indices: (rank, epoch) pairs are all distinct, whatever the epoch count.
  BOOST_TEST(Rng::derived(StreamFamily::RankLayers, 1, 1000) != Rng::derived(StreamFamily::RankLayers, 2, 0));
  BOOST_CHECK_THROW(Rng::derived(StreamFamily::TrialSeed, Rng::kIndexLimit), lamina::Error);
  BOOST_CHECK_THROW(Rng::derived(StreamFamily::RankLayers, Rng::kMinorLimit, 0), lamina::Error);
  // And the streams themselves differ.
  Rng a(7, Rng::derived(StreamFamily::TrialProposal, 1000)), b(7, Rng::derived(StreamFamily::TrialSeed, 0));
  BOOST_TEST(a.next() != b.next());
}
