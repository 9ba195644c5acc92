// `lamina check METRIC`: for every target kind the metric takes, a made-up batch of 12 samples
// measured whole and as two halves whose sums are added (what the trainer does across batches
// and ranks) must give the same value; the value must be finite and the same twice.
#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "check/checks.hpp"
#include "lamina/metric.hpp"
#include "lamina/rng.hpp"

namespace lamina::detail::checks {

namespace {

struct MadeUpBatch {
  Tensor scores;
  std::vector<std::int32_t> classes;
  std::vector<float> values;
  Targets targets;
};

// `n` samples of `kind` targets: 5 classes, 4 labels, 3 outputs, or 3 positions of 5 classes.
MadeUpBatch batch(TargetKind kind, std::int64_t n, Rng& rng) {
  MadeUpBatch b;
  const bool per_position = kind == TargetKind::ClassPerPosition;
  const std::int64_t width = kind == TargetKind::MultiLabel ? 4 : kind == TargetKind::Regression ? 3 : 5;
  const bool soft = kind == TargetKind::ClassProbabilities;
  const std::int64_t per_sample = per_position ? 3 : 1;
  b.scores = Tensor(per_position ? Shape{n, per_sample, width} : Shape{n, width});
  for (std::int64_t i = 0; i < b.scores.size(); ++i) b.scores[i] = rng.normal(0.0f, 1.0f);
  b.targets.kind = kind;
  b.targets.count = n;
  if (kind == TargetKind::Class || per_position) {
    for (std::int64_t i = 0; i < n * per_sample; ++i) b.classes.push_back(static_cast<std::int32_t>(rng.below(5)));
    b.targets.width = per_sample;
    b.targets.classes = b.classes;
  } else {
    for (std::int64_t i = 0; i < n * width; ++i) {
      b.values.push_back(kind == TargetKind::MultiLabel ? static_cast<float>(rng.below(2))
                         : soft                           ? rng.uniform() + 0.05f
                                                          : rng.normal(0.0f, 1.0f));
    }
    for (std::int64_t i = 0; soft && i < n; ++i) {  // each row sums to 1
      float sum = 0;
      for (std::int64_t k = 0; k < width; ++k) sum += b.values[static_cast<std::size_t>(i * width + k)];
      for (std::int64_t k = 0; k < width; ++k) b.values[static_cast<std::size_t>(i * width + k)] /= sum;
    }
    b.targets.width = width;
    b.targets.values = b.values;
  }
  return b;
}

}  // namespace

void check_metric(const Registry& registry, const Config& spec, Report& report) {
  auto metric = registry.create<Metric>(spec);
  int kinds = 0;
  for (TargetKind kind : kTargetKinds) {
    if (!metric->accepts(kind)) continue;
    ++kinds;
    Rng rng(7, Rng::Stream::Init);
    const MadeUpBatch whole = batch(kind, 12, rng);
    const std::int64_t width = whole.scores.shape()[whole.scores.rank() - 1];
    const std::size_t n = metric->sums(width);
    std::vector<double> all(n, 0.0), halves(n, 0.0), again(n, 0.0);
    metric->add(whole.scores, whole.targets, all);
    metric->add(whole.scores, whole.targets, again);
    // The same samples as two batches of 6.
    const std::int64_t per_row = whole.scores.size() / 12;
    for (int h = 0; h < 2; ++h) {
      MadeUpBatch part;
      part.scores = Tensor(whole.scores.rank() == 3 ? Shape{6, whole.scores.shape()[1], width} : Shape{6, width});
      std::copy_n(whole.scores.data() + h * 6 * per_row, 6 * per_row, part.scores.data());
      part.targets = whole.targets;
      part.targets.count = 6;
      const std::size_t stride = static_cast<std::size_t>(whole.targets.width) * 6;
      if (!whole.classes.empty()) part.targets.classes = std::span(whole.classes).subspan(h * stride, stride);
      if (!whole.values.empty()) part.targets.values = std::span(whole.values).subspan(h * stride, stride);
      metric->add(part.scores, part.targets, halves);
    }
    const double v = metric->value(all), split = metric->value(halves), twice = metric->value(again);
    const std::string what = fmt::format("{} targets", target_kind_name(kind));
    report.add(std::isfinite(v), what + ": value finite", fmt::format("{:.6g} on 12 made-up samples", v));
    report.add(std::abs(v - split) <= 1e-12 * std::max(1.0, std::abs(v)), what + ": sums add up",
               fmt::format("whole {:.12g}, two halves {:.12g}", v, split));
    report.add(v == twice, what + ": deterministic", "");
  }
  report.add(kinds > 0, "takes some kind of target", kinds > 0 ? "" : "accepts() is false for every kind");
  for (TargetKind kind : kTargetKinds) {
    if (metric->is_default(kind) && !metric->accepts(kind)) {
      report.add(false, "a default only for kinds it takes",
                 fmt::format("is_default({}) but not accepts", target_kind_name(kind)));
    }
  }
}

}  // namespace lamina::detail::checks
