// Every built-in loss through the registry: gradients against central differences for each
// kind of target it takes, and values and gradients against float64 loops written from the
// formulas (PyTorch's definitions, reduction 'mean').
#define BOOST_TEST_MODULE losses
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/gradcheck.hpp>
#include <lamina/loss.hpp>
#include <lamina/rng.hpp>
#include <vector>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Loss> make(const std::string& spec = "{type: softmax_cross_entropy}") {
  return builtin_registry().create<Loss>(Config::parse(spec));
}

Targets classes(std::span<const std::int32_t> labels, std::int64_t n, TargetKind kind = TargetKind::Class) {
  return {kind, n, static_cast<std::int64_t>(labels.size()) / n, labels, {}};
}

Targets values(std::span<const float> v, std::int64_t n, TargetKind kind) {
  return {kind, n, static_cast<std::int64_t>(v.size()) / n, {}, v};
}

Tensor random_scores(Shape shape, std::uint64_t seed) {
  Tensor s(shape);
  Rng rng(seed, Rng::Stream::User);
  for (auto& v : s.values()) v = rng.normal(0.0f, 2.0f);
  return s;
}

// Compares a loss's value and gradient with a float64 reference.
void same_as(Loss& loss, const Tensor& s, const Targets& t, double value, const std::vector<double>& grad) {
  BOOST_TEST(loss.forward(s, t) == value, boost::test_tools::tolerance(2e-6));
  Tensor d;
  loss.backward(d);
  BOOST_REQUIRE(d.shape() == s.shape());
  for (std::int64_t i = 0; i < d.size(); ++i) {
    BOOST_TEST(d[i] == grad[static_cast<std::size_t>(i)], boost::test_tools::tolerance(1e-5));
  }
}

// -log softmax(s)_c of one row, in double.
std::vector<double> neg_log_softmax(const float* s, std::int64_t c) {
  double m = s[0];
  for (std::int64_t j = 1; j < c; ++j) m = std::max(m, static_cast<double>(s[j]));
  double z = 0;
  for (std::int64_t j = 0; j < c; ++j) z += std::exp(s[j] - m);
  std::vector<double> out(static_cast<std::size_t>(c));
  for (std::int64_t j = 0; j < c; ++j) out[static_cast<std::size_t>(j)] = -(s[j] - m - std::log(z));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_loss_checks_its_gradients_for_each_kind_it_takes) {
  const std::vector<std::pair<std::string, std::vector<TargetKind>>> losses{
      {"{type: softmax_cross_entropy}",
       {TargetKind::Class, TargetKind::ClassPerPosition, TargetKind::ClassProbabilities}},
      {"{type: softmax_cross_entropy, label_smoothing: 0.1, class_weights: [1, 2, 0.5, 1, 3]}",
       {TargetKind::Class, TargetKind::ClassPerPosition, TargetKind::ClassProbabilities}},
      {"{type: mse}", {TargetKind::Regression}},
      {"{type: huber, delta: 0.7}", {TargetKind::Regression}},
      {"{type: mae}", {TargetKind::Regression}},
      {"{type: bce_with_logits}", {TargetKind::MultiLabel}},
      {"{type: bce_with_logits, pos_weight: [1, 3, 0.5, 2, 1]}", {TargetKind::MultiLabel}},
  };
  for (const auto& [spec, kinds] : losses) {
    BOOST_TEST_CONTEXT(spec) {
      auto loss = make(spec);
      for (TargetKind k : kTargetKinds) {
        const bool takes = std::find(kinds.begin(), kinds.end(), k) != kinds.end();
        BOOST_TEST(loss->accepts(k) == takes, target_kind_name(k));
        if (!takes) continue;
        GradCheckOptions o;
        o.batch = 6;
        const auto r = check_loss_gradients(*loss, k, 5, o);
        BOOST_TEST(r.ok, target_kind_name(k) << ": max relative error " << r.max_error);
        // Points where the loss bends within one step (a residual near 0, a kink) are skipped
        // by the check; most are not.
        const int points = k == TargetKind::ClassPerPosition ? 90 : 30;
        BOOST_TEST(r.checked * 3 >= points * 2, r.checked << " of " << points << " points checked");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(uniform_scores_give_log_c) {
  auto loss = make();
  Tensor s(Shape{2, 10});
  const std::vector<std::int32_t> labels{3, 7};
  BOOST_TEST(loss->forward(s, classes(labels, 2)) == std::log(10.0f), boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(matches_the_textbook_formula) {
  auto loss = make();
  Tensor s(Shape{1, 3});
  s[0] = 1.0f;
  s[1] = 2.0f;
  s[2] = 3.0f;
  const std::vector<std::int32_t> labels{0};
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  same_as(*loss, s, classes(labels, 1), -std::log(std::exp(1.0) / z),
          {std::exp(1.0) / z - 1.0, std::exp(2.0) / z, std::exp(3.0) / z});
}

BOOST_AUTO_TEST_CASE(smoothing_and_class_weights_match_pytorchs_definition) {
  // L = sum_i [(1-e) w_yi nls_i,yi + e/C sum_c w_c nls_ic] / sum_i w_yi, with nls = -log softmax.
  auto loss = make("{type: softmax_cross_entropy, label_smoothing: 0.2, class_weights: [0.5, 2, 1, 3]}");
  const std::vector<double> w{0.5, 2, 1, 3};
  const double e = 0.2;
  const std::int64_t n = 5, c = 4;
  const Tensor s = random_scores(Shape{n, c}, 11);
  const std::vector<std::int32_t> labels{0, 3, 1, 1, 2};
  double total = 0, wsum = 0;
  std::vector<double> grad(static_cast<std::size_t>(n * c));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto nls = neg_log_softmax(s.data() + i * c, c);
    const auto y = static_cast<std::size_t>(labels[static_cast<std::size_t>(i)]);
    total += (1 - e) * w[y] * nls[y];
    for (std::int64_t j = 0; j < c; ++j) total += e / c * w[static_cast<std::size_t>(j)] * nls[static_cast<std::size_t>(j)];
    wsum += w[y];
    // d(nls_c)/ds_k = p_k - [k == c]
    for (std::int64_t k = 0; k < c; ++k) {
      const double p = std::exp(-nls[static_cast<std::size_t>(k)]);
      double g = (1 - e) * w[y] * (p - (static_cast<std::size_t>(k) == y));
      for (std::int64_t j = 0; j < c; ++j) g += e / c * w[static_cast<std::size_t>(j)] * (p - (k == j));
      grad[static_cast<std::size_t>(i * c + k)] = g;
    }
  }
  for (auto& g : grad) g /= wsum;
  same_as(*loss, s, classes(labels, n), total / wsum, grad);
}

BOOST_AUTO_TEST_CASE(soft_targets_match_their_definition_and_one_hot_rows_equal_class_targets) {
  // L = -1/N sum_i sum_c w_c q'_ic log p_ic with q' = (1-e) q + e/C (mixup's targets; PyTorch's
  // cross_entropy with probabilities, which averages over N rather than the weights).
  auto loss = make("{type: softmax_cross_entropy, label_smoothing: 0.1, class_weights: [0.5, 2, 1, 3]}");
  const std::vector<double> w{0.5, 2, 1, 3};
  const double e = 0.1;
  const std::int64_t n = 4, c = 4;
  const Tensor s = random_scores(Shape{n, c}, 13);
  const std::vector<float> q{0.7f, 0.3f, 0, 0, 0, 0, 1, 0, 0.25f, 0.25f, 0.25f, 0.25f, 0.1f, 0, 0.2f, 0.7f};
  double total = 0;
  std::vector<double> grad(static_cast<std::size_t>(n * c));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto nls = neg_log_softmax(s.data() + i * c, c);
    double wq = 0;
    std::vector<double> qs(static_cast<std::size_t>(c));
    for (std::int64_t j = 0; j < c; ++j) {
      const auto u = static_cast<std::size_t>(j);
      qs[u] = (1 - e) * q[static_cast<std::size_t>(i * c + j)] + e / c;
      total += w[u] * qs[u] * nls[u];
      wq += w[u] * qs[u];
    }
    for (std::int64_t k = 0; k < c; ++k) {
      const auto u = static_cast<std::size_t>(k);
      grad[static_cast<std::size_t>(i * c + k)] = (std::exp(-nls[u]) * wq - w[u] * qs[u]) / n;
    }
  }
  same_as(*loss, s, values(q, n, TargetKind::ClassProbabilities), total / n, grad);

  // Without weights, a one-hot row is its class: the same loss and gradient.
  auto plain = make();
  const std::vector<std::int32_t> labels{2, 0, 3, 1};
  std::vector<float> one_hot(static_cast<std::size_t>(n * c), 0.0f);
  for (std::int64_t i = 0; i < n; ++i) one_hot[static_cast<std::size_t>(i * c + labels[static_cast<std::size_t>(i)])] = 1;
  const float by_class = plain->forward(s, classes(labels, n));
  Tensor d1, d2;
  plain->backward(d1);
  const float by_rows = plain->forward(s, values(one_hot, n, TargetKind::ClassProbabilities));
  plain->backward(d2);
  BOOST_TEST(by_rows == by_class, boost::test_tools::tolerance(1e-6f));
  for (std::int64_t i = 0; i < d1.size(); ++i) BOOST_TEST(d2[i] == d1[i], boost::test_tools::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(a_class_per_position_is_the_mean_over_every_position) {
  auto loss = make();
  const std::int64_t n = 2, t = 3, c = 4;
  const Tensor s = random_scores(Shape{n, t, c}, 5);
  const std::vector<std::int32_t> labels{0, 3, 2, 1, 1, 0};
  double total = 0;
  std::vector<double> grad(static_cast<std::size_t>(n * t * c));
  for (std::int64_t r = 0; r < n * t; ++r) {
    const auto nls = neg_log_softmax(s.data() + r * c, c);
    const auto y = static_cast<std::size_t>(labels[static_cast<std::size_t>(r)]);
    total += nls[y];
    for (std::int64_t k = 0; k < c; ++k) {
      grad[static_cast<std::size_t>(r * c + k)] =
          (std::exp(-nls[static_cast<std::size_t>(k)]) - (static_cast<std::size_t>(k) == y)) / (n * t);
    }
  }
  same_as(*loss, s, classes(labels, n, TargetKind::ClassPerPosition), total / (n * t), grad);
}

BOOST_AUTO_TEST_CASE(regression_losses_match_their_definitions) {
  const std::int64_t n = 4, k = 3;
  const Tensor s = random_scores(Shape{n, k}, 3);
  Tensor y = random_scores(Shape{n, k}, 4);
  const std::vector<float> target(y.values().begin(), y.values().end());
  const double delta = 0.8;
  struct Case {
    std::string spec;
    double (*value)(double d, double delta);
    double (*grad)(double d, double delta);
  };
  const std::vector<Case> cases{
      {"{type: mse}", [](double d, double) { return d * d; }, [](double d, double) { return 2 * d; }},
      {"{type: huber, delta: 0.8}",
       [](double d, double dl) { return std::abs(d) <= dl ? 0.5 * d * d : dl * (std::abs(d) - 0.5 * dl); },
       [](double d, double dl) { return std::clamp(d, -dl, dl); }},
      {"{type: mae}", [](double d, double) { return std::abs(d); },
       [](double d, double) { return static_cast<double>((d > 0) - (d < 0)); }},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.spec) {
      auto loss = make(c.spec);
      double total = 0;
      std::vector<double> grad(static_cast<std::size_t>(n * k));
      for (std::int64_t i = 0; i < n * k; ++i) {
        const double d = static_cast<double>(s[i]) - target[static_cast<std::size_t>(i)];
        total += c.value(d, delta);
        grad[static_cast<std::size_t>(i)] = c.grad(d, delta) / static_cast<double>(n * k);
      }
      same_as(*loss, s, values(target, n, TargetKind::Regression), total / static_cast<double>(n * k), grad);
    }
  }
}

BOOST_AUTO_TEST_CASE(bce_with_logits_matches_its_definition_and_stays_finite) {
  auto loss = make("{type: bce_with_logits, pos_weight: [2, 0.5, 1]}");
  const std::vector<double> pw{2, 0.5, 1};
  const std::int64_t n = 3, c = 3;
  Tensor s = random_scores(Shape{n, c}, 9);
  s[0] = 80.0f;   // confident: sigma is 1 in float
  s[4] = -80.0f;  // confident the other way
  const std::vector<float> y{0, 1, 1, 1, 1, 0, 0, 0, 1};
  double total = 0;
  std::vector<double> grad(static_cast<std::size_t>(n * c));
  for (std::int64_t i = 0; i < n * c; ++i) {
    const double x = s[i], t = y[static_cast<std::size_t>(i)], p = pw[static_cast<std::size_t>(i % c)];
    const double sig = 1 / (1 + std::exp(-x));
    // log(1 - sigma(x)) = -x - log(1 + exp(-x)), written so that x = 80 keeps its digits.
    const double log_sig = -std::log1p(std::exp(-x)), log_one_minus = -x - std::log1p(std::exp(-x));
    total += -(p * t * log_sig + (1 - t) * log_one_minus);
    grad[static_cast<std::size_t>(i)] = (sig * (1 - t + p * t) - p * t) / static_cast<double>(n * c);
  }
  same_as(*loss, s, values(y, n, TargetKind::MultiLabel), total / static_cast<double>(n * c), grad);
}

BOOST_AUTO_TEST_CASE(huge_scores_stay_finite) {
  auto loss = make();
  Tensor s(Shape{2, 3});
  s[0] = 1e30f;  // a confident right answer
  s[4] = 1e30f;  // a confident wrong answer (label 0, score on class 1)
  const std::vector<std::int32_t> labels{0, 0};
  const float l = loss->forward(s, classes(labels, 2));
  BOOST_TEST(std::isfinite(l));
  BOOST_TEST(l == 0.5f * 1e30f, boost::test_tools::tolerance(1e-6f));
  Tensor d;
  loss->backward(d);
  for (float v : d.values()) BOOST_TEST(std::isfinite(v));
}

BOOST_AUTO_TEST_CASE(mismatched_targets_are_errors) {
  auto loss = make();
  Tensor s(Shape{1, 3});
  const std::vector<std::int32_t> labels{3};
  BOOST_CHECK_THROW(loss->forward(s, classes(labels, 1)), Error);
  auto weighted = make("{type: softmax_cross_entropy, class_weights: [1, 2]}");
  const std::vector<std::int32_t> one{1};
  BOOST_CHECK_THROW(weighted->forward(s, classes(one, 1)), InputError);
  auto bce = make("{type: bce_with_logits, pos_weight: [1, 2]}");
  const std::vector<float> three{0, 1, 0};
  BOOST_CHECK_THROW(bce->forward(s, values(three, 1, TargetKind::MultiLabel)), InputError);
  auto mse = make("{type: mse}");
  const std::vector<float> two{0, 1};
  BOOST_CHECK_THROW(mse->forward(s, values(two, 1, TargetKind::Regression)), Error);
}
