#define BOOST_TEST_MODULE init
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/initializer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

double measured_std(const std::string& spec, std::int64_t fan_in) {
  auto init = builtin_registry().create<Initializer>(Config::parse(spec));
  Tensor w(Shape{fan_in, 250});
  Rng rng(11);
  init->fill(w, fan_in, 250, rng);
  double sum = 0, sq = 0;
  for (float v : w.values()) {
    sum += v;
    sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(w.size());
  BOOST_TEST(std::abs(sum / n) < 0.05 * std::sqrt(sq / n));  // zero mean
  return std::sqrt(sq / n - (sum / n) * (sum / n));
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_initializer_has_its_formula_std) {
  BOOST_TEST(measured_std("he", 100) == std::sqrt(2.0 / 100), boost::test_tools::tolerance(0.02));
  BOOST_TEST(measured_std("xavier", 100) == std::sqrt(1.0 / 100), boost::test_tools::tolerance(0.02));
  BOOST_TEST(measured_std("{type: normal, std: 0.3}", 100) == 0.3, boost::test_tools::tolerance(0.02));
  BOOST_TEST(measured_std("normal", 100) == 0.01, boost::test_tools::tolerance(0.02));
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_weights) {
  auto init = builtin_registry().create<Initializer>(Config::parse("he"));
  Tensor a(Shape{10, 10}), b(Shape{10, 10});
  Rng r1(5, Rng::Stream::Init), r2(5, Rng::Stream::Init), r3(6, Rng::Stream::Init);
  init->fill(a, 10, 10, r1);
  init->fill(b, 10, 10, r2);
  BOOST_TEST(std::equal(a.data(), a.data() + a.size(), b.data()));
  init->fill(b, 10, 10, r3);
  BOOST_TEST(!std::equal(a.data(), a.data() + a.size(), b.data()));
}
