// Every built-in metric through the registry: values against float64 loops written from the
// formulas (scikit-learn's definitions where it has one), sums that add across batches, and the
// directions and defaults the host ranks and chooses by.
#define BOOST_TEST_MODULE metrics
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cmath>
#include <lamina/metric.hpp>
#include <lamina/rng.hpp>
#include <set>
#include <vector>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Metric> make(const std::string& spec) { return builtin_registry().create<Metric>(Config::parse(spec)); }

Tensor random_scores(Shape shape, std::uint64_t seed) {
  Tensor s(shape);
  Rng rng(seed, Rng::Stream::User);
  for (auto& v : s.values()) v = rng.normal(0.0f, 2.0f);
  return s;
}

std::vector<std::int32_t> random_classes(std::size_t n, std::uint64_t c, std::uint64_t seed) {
  Rng rng(seed, Rng::Stream::User);
  std::vector<std::int32_t> out(n);
  for (auto& v : out) v = static_cast<std::int32_t>(rng.below(c));
  return out;
}

// The metric of a whole batch, and of the same rows given as `parts` batches whose sums add.
double measure(const Metric& m, const Tensor& s, const Targets& t, std::int64_t width) {
  std::vector<double> sums(m.sums(width), 0.0);
  m.add(s, t, sums);
  return m.value(sums);
}

double measure_in_parts(const Metric& m, const Tensor& s, const Targets& t, std::int64_t width, std::int64_t parts) {
  std::vector<double> sums(m.sums(width), 0.0);
  const std::int64_t per = t.count / parts, per_row = s.size() / t.count;
  for (std::int64_t p = 0; p < parts; ++p) {
    Shape shape = s.shape();
    Tensor part(shape.rank() == 3 ? Shape{per, shape[1], shape[2]} : Shape{per, shape[1]});
    std::copy_n(s.data() + p * per * per_row, per * per_row, part.data());
    Targets tp = t;
    tp.count = per;
    const auto stride = static_cast<std::size_t>(per * t.width);
    if (!t.classes.empty()) tp.classes = t.classes.subspan(static_cast<std::size_t>(p) * stride, stride);
    if (!t.values.empty()) tp.values = t.values.subspan(static_cast<std::size_t>(p) * stride, stride);
    m.add(part, tp, sums);
  }
  return m.value(sums);
}

std::int64_t argmax(const float* row, std::int64_t c) { return std::max_element(row, row + c) - row; }

}  // namespace

BOOST_AUTO_TEST_CASE(accuracy_and_top_k_count_right_answers_per_sample_and_per_position) {
  const std::int64_t n = 60, c = 7;
  const Tensor s = random_scores(Shape{n, c}, 3);
  const auto labels = random_classes(n, c, 4);
  const Targets t{TargetKind::Class, n, 1, labels, {}};
  double right = 0, top3 = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = s.data() + i * c;
    right += argmax(row, c) == labels[static_cast<std::size_t>(i)];
    std::vector<double> sorted(row, row + c);
    std::sort(sorted.rbegin(), sorted.rend());
    top3 += row[labels[static_cast<std::size_t>(i)]] >= sorted[2];
  }
  auto acc = make("accuracy");
  BOOST_TEST(measure(*acc, s, t, c) == right / n);
  BOOST_TEST(measure_in_parts(*acc, s, t, c, 4) == right / n);
  BOOST_TEST(measure(*make("{type: top_k_accuracy, k: 1}"), s, t, c) == right / n);
  BOOST_TEST(measure(*make("{type: top_k_accuracy, k: 3}"), s, t, c) == top3 / n);
  BOOST_TEST(measure(*make("{type: top_k_accuracy, k: 7}"), s, t, c) == 1.0);
  BOOST_TEST(top3 > right);  // the data is not degenerate

  // A class per position: every position counts once.
  const std::int64_t positions = 5;
  const Tensor sp = random_scores(Shape{12, positions, c}, 5);
  const auto lp = random_classes(12 * positions, c, 6);
  double rp = 0;
  for (std::int64_t i = 0; i < 12 * positions; ++i) rp += argmax(sp.data() + i * c, c) == lp[static_cast<std::size_t>(i)];
  const Targets tp{TargetKind::ClassPerPosition, 12, positions, lp, {}};
  BOOST_TEST(measure(*acc, sp, tp, c) == rp / (12 * positions));
  BOOST_TEST(measure_in_parts(*acc, sp, tp, c, 3) == rp / (12 * positions));

  // Class probabilities (mixup's rows): the class is the row's most probable one.
  std::vector<float> soft(static_cast<std::size_t>(n * c), 0.0f);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto y = static_cast<std::size_t>(labels[static_cast<std::size_t>(i)]);
    soft[static_cast<std::size_t>(i * c) + y] = 0.6f;
    soft[static_cast<std::size_t>(i * c) + (y + 1) % static_cast<std::size_t>(c)] = 0.4f;
  }
  const Targets ts{TargetKind::ClassProbabilities, n, c, {}, soft};
  BOOST_TEST(measure(*acc, s, ts, c) == right / n);
  BOOST_TEST(measure(*make("{type: top_k_accuracy, k: 3}"), s, ts, c) == top3 / n);
}

BOOST_AUTO_TEST_CASE(macro_f1_matches_its_definition_for_classes_and_label_sets) {
  // Classes: F1 per class from the argmax, averaged over the classes that occur or are predicted.
  const std::int64_t n = 90, c = 6;
  const Tensor s = random_scores(Shape{n, c}, 7);
  auto labels = random_classes(n, c - 1, 8);  // class 5 never occurs...
  std::vector<double> tp(c), fp(c), fn(c);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto p = argmax(s.data() + i * c, c);
    const auto y = labels[static_cast<std::size_t>(i)];
    if (p == y) {
      tp[static_cast<std::size_t>(y)] += 1;
    } else {
      fp[static_cast<std::size_t>(p)] += 1;
      fn[static_cast<std::size_t>(y)] += 1;
    }
  }
  double total = 0;
  int seen = 0;
  for (std::size_t j = 0; j < static_cast<std::size_t>(c); ++j) {
    if (tp[j] + fp[j] + fn[j] == 0) continue;
    total += 2 * tp[j] / (2 * tp[j] + fp[j] + fn[j]);
    ++seen;
  }
  auto f1 = make("macro_f1");
  const Targets t{TargetKind::Class, n, 1, labels, {}};
  BOOST_TEST(measure(*f1, s, t, c) == total / seen, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(measure_in_parts(*f1, s, t, c, 5) == total / seen, boost::test_tools::tolerance(1e-12));

  // Label sets: each label predicted when its logit is above 0.
  const std::int64_t k = 4;
  const Tensor sl = random_scores(Shape{40, k}, 9);
  Rng rng(10, Rng::Stream::User);
  std::vector<float> y(40 * k);
  for (auto& v : y) v = static_cast<float>(rng.below(2));
  double lt = 0;
  for (std::int64_t j = 0; j < k; ++j) {
    double a = 0, b = 0, d = 0;
    for (std::int64_t i = 0; i < 40; ++i) {
      const bool p = sl[i * k + j] > 0, truth = y[static_cast<std::size_t>(i * k + j)] == 1;
      a += p && truth;
      b += p && !truth;
      d += !p && truth;
    }
    lt += 2 * a / (2 * a + b + d);
  }
  const Targets tl{TargetKind::MultiLabel, 40, k, {}, y};
  BOOST_TEST(measure(*f1, sl, tl, k) == lt / k, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(measure_in_parts(*f1, sl, tl, k, 4) == lt / k, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(mae_rmse_and_r2_match_their_definitions) {
  const std::int64_t n = 50, k = 3;
  const Tensor s = random_scores(Shape{n, k}, 11);
  Rng rng(12, Rng::Stream::User);
  std::vector<float> y(n * k);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = 0.7f * s[static_cast<std::int64_t>(i)] + rng.normal(0.0f, 1.0f);
  double abs_sum = 0, sq_sum = 0, r2 = 0;
  for (std::int64_t j = 0; j < k; ++j) {
    double mean = 0, res = 0, tot = 0;
    for (std::int64_t i = 0; i < n; ++i) mean += y[static_cast<std::size_t>(i * k + j)] / static_cast<double>(n);
    for (std::int64_t i = 0; i < n; ++i) {
      const double yi = y[static_cast<std::size_t>(i * k + j)], d = static_cast<double>(s[i * k + j]) - yi;
      abs_sum += std::abs(d);
      sq_sum += d * d;
      res += d * d;
      tot += (yi - mean) * (yi - mean);
    }
    r2 += 1 - res / tot;
  }
  const Targets t{TargetKind::Regression, n, k, {}, y};
  BOOST_TEST(measure(*make("mae"), s, t, k) == abs_sum / (n * k), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(measure(*make("rmse"), s, t, k) == std::sqrt(sq_sum / (n * k)), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(measure(*make("r2"), s, t, k) == r2 / k, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(measure_in_parts(*make("r2"), s, t, k, 5) == r2 / k, boost::test_tools::tolerance(1e-9));

  // A perfect prediction has R² 1; a constant target has none (its variance is 0).
  std::vector<float> same(s.values().begin(), s.values().end());
  BOOST_TEST(measure(*make("r2"), s, Targets{TargetKind::Regression, n, k, {}, same}, k) == 1.0,
             boost::test_tools::tolerance(1e-12));
  const std::vector<float> constant(n * k, 2.0f);
  BOOST_TEST(std::isnan(measure(*make("r2"), s, Targets{TargetKind::Regression, n, k, {}, constant}, k)));
}

BOOST_AUTO_TEST_CASE(directions_kinds_and_defaults_are_declared) {
  struct Want {
    const char* type;
    bool higher;
    std::set<TargetKind> takes, default_for;
  };
  using K = TargetKind;
  const Want wants[] = {
      {"accuracy", true, {K::Class, K::ClassPerPosition, K::ClassProbabilities},
       {K::Class, K::ClassPerPosition, K::ClassProbabilities}},
      {"top_k_accuracy", true, {K::Class, K::ClassPerPosition, K::ClassProbabilities}, {}},
      {"macro_f1", true, {K::Class, K::MultiLabel}, {K::MultiLabel}},
      {"mae", false, {K::Regression}, {}},
      {"rmse", false, {K::Regression}, {K::Regression}},
      {"r2", true, {K::Regression}, {}},
  };
  for (const auto& w : wants) {
    auto m = make(w.type);
    BOOST_TEST(m->higher_is_better() == w.higher, w.type);
    for (K kind : kTargetKinds) {
      BOOST_TEST(m->accepts(kind) == (w.takes.count(kind) == 1), w.type << " " << target_kind_name(kind));
      BOOST_TEST(m->is_default(kind) == (w.default_for.count(kind) == 1), w.type << " " << target_kind_name(kind));
    }
  }
}
