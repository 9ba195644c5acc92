// `lamina check` of an augmentation.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "check/checks.hpp"
#include "lamina/augmentation.hpp"
#include "runtime/dataset.hpp"

namespace lamina::detail::checks {

namespace {

constexpr std::int64_t kClasses = 4;

// A batch with targets of kind `in`, as the trainer hands it over: class indices become one-hot
// rows when the augmentation makes class probabilities of them.
BatchTargets made_up_targets(TargetKind in, TargetKind out, std::int64_t n, std::uint64_t seed) {
  BatchTargets t;
  t.kind = in;
  t.count = n;
  Rng rng(seed, Rng::Stream::User);
  if (in == TargetKind::Class) {
    for (std::int64_t r = 0; r < n; ++r) t.classes.push_back(static_cast<std::int32_t>(rng.below(kClasses)));
    if (out == TargetKind::ClassProbabilities) t.to_class_probabilities(kClasses);
    return t;
  }
  t.width = kClasses;
  for (std::int64_t r = 0; r < n; ++r) {
    float sum = 0;
    for (std::int64_t c = 0; c < kClasses; ++c) {
      const float v = in == TargetKind::Regression ? rng.normal(0.0f, 1.0f)
                      : in == TargetKind::MultiLabel ? static_cast<float>(rng.below(2))
                                                     : rng.uniform() + 0.1f;
      t.values.push_back(v);
      sum += v;
    }
    if (in == TargetKind::ClassProbabilities) {
      for (std::int64_t c = 0; c < kClasses; ++c) t.values[static_cast<std::size_t>(r * kClasses + c)] /= sum;
    }
  }
  return t;
}

struct Applied {
  Tensor x;
  BatchTargets targets;
  TargetKind kind_after = TargetKind::Class;
  std::int64_t width_after = 0;
};

Applied apply_once(Augmentation& a, const Tensor& x, TargetKind in, TargetKind out, std::uint64_t seed) {
  Applied r{x.clone(), made_up_targets(in, out, x.rows(), seed), TargetKind::Class, 0};
  AugmentTargets t{r.targets.kind, r.targets.count, r.targets.width, r.targets.classes, r.targets.values};
  Rng rng(seed, Rng::derived(StreamFamily::Augment, 0, 0));
  a.apply(r.x, t, rng);
  r.kind_after = t.kind;
  r.width_after = t.width;
  return r;
}

bool rows_are_distributions(const BatchTargets& t) {
  for (std::int64_t r = 0; r < t.count; ++r) {
    double sum = 0;
    for (std::int64_t c = 0; c < t.width; ++c) {
      const float v = t.values[static_cast<std::size_t>(r * t.width + c)];
      if (!(v >= 0.0f && v <= 1.0f)) return false;
      sum += v;
    }
    if (std::abs(sum - 1.0) > 1e-4) return false;
  }
  return true;
}

}  // namespace

// For each kind of target it takes, on a batch of images: two instances with one seed give the
// same batch; the shape, the kind and width of the targets stay; soft targets stay distributions;
// at a neutral setting (is_identity) the batch comes back bit for bit. That the host applies it
// to training batches only is the trainer's to keep, and the suite tests it.
void check_augmentation(const Registry& registry, const Config& spec, const CheckRequest& req, Report& report) {
  Shape sample = req.input_shape;
  if (sample.rank() != 3) {
    sample = Shape{1, 10, 10};
    report.note("a batch of images (1, 10, 10) per sample; --input-shape C,H,W for another");
  }
  const Tensor x = input(sample, req.batch, req.seed);
  auto first = registry.create<Augmentation>(spec);
  auto second = registry.create<Augmentation>(spec);
  int kinds = 0;
  for (TargetKind in : kTargetKinds) {
    if (in == TargetKind::ClassPerPosition) continue;  // sequences: not images
    TargetKind out;
    try {
      out = first->output_kind(sample, in);
    } catch (const InputError&) {
      continue;  // a kind it refuses, as it should, with a message
    }
    ++kinds;
    const std::string with = fmt::format("{} targets", target_kind_name(in));
    const Applied a = apply_once(*first, x, in, out, req.seed);
    const Applied b = apply_once(*second, x, in, out, req.seed);
    const bool same_targets = a.targets.classes == b.targets.classes && a.targets.values == b.targets.values;
    report.add(same(a.x, b.x) && same_targets, "deterministic, " + with, "two instances, one seed, the same batch");
    const bool kept = a.x.shape() == x.shape() && a.kind_after == out && a.width_after == a.targets.width;
    report.add(kept && finite(a.x), "shape and target kind kept, " + with,
               kept ? fmt::format("{} in, {} targets out", x.shape().str(), target_kind_name(out))
                    : fmt::format("{} in, {} out", x.shape().str(), a.x.shape().str()));
    if (out == TargetKind::ClassProbabilities) {
      report.add(rows_are_distributions(a.targets), "soft targets stay distributions, " + with,
                 "every row in [0, 1], summing to 1");
    }
    if (first->is_identity()) {
      const bool untouched = same(a.x, x) && a.targets.values == made_up_targets(in, out, x.rows(), req.seed).values;
      report.add(untouched, "identity at its neutral setting, " + with, "the batch comes back bit for bit");
    }
  }
  report.add(kinds > 0, "takes some kind of target", kinds > 0 ? "" : "output_kind refuses every kind");
}

}  // namespace lamina::detail::checks
