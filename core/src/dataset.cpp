#include "runtime/dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "huge_pages.hpp"
#include "lamina/error.hpp"
#include "lamina/named_samples.hpp"
#include "lamina/source_state.hpp"
#include "lamina/rng.hpp"
#include "runtime/plugin_guard.hpp"

namespace fs = std::filesystem;

namespace lamina {

DataView::DataView(std::shared_ptr<const SampleSet> samples, std::vector<std::uint32_t> rows, float scale)
    : samples_(std::move(samples)), rows_(std::move(rows)), scale_(scale) {}

void BatchTargets::to_class_probabilities(std::int64_t c) {
  const auto n = static_cast<std::size_t>(count);
  values.assign(n * static_cast<std::size_t>(c), 0.0f);
  for (std::size_t r = 0; r < n; ++r) values[r * static_cast<std::size_t>(c) + static_cast<std::size_t>(classes[r])] = 1.0f;
  classes.clear();
  kind = TargetKind::ClassProbabilities;
  width = c;
}

void DataView::batch(std::span<const std::uint32_t> positions, Tensor& x, BatchTargets& targets,
                     std::vector<std::int32_t>* ids) const {
  const SampleSet& s = *samples_;
  const std::int64_t dim = s.sample_shape.numel();
  const auto n = static_cast<std::int64_t>(positions.size());
  x.resize(s.sample_shape.batched(n));
  gather_targets(positions, targets);
  float* out = x.data();
  // A local copy: through the member, every store to dst could change it, which kept the
  // compiler from vectorizing the conversion.
  const float scale = scale_;
  if (!s.ids.empty() && ids) ids->resize(static_cast<std::size_t>(n * dim));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t row = rows_[positions[static_cast<std::size_t>(i)]];
    float* dst = out + i * dim;
    if (!s.bytes.empty()) {
      const std::uint8_t* src = s.bytes.data() + static_cast<std::int64_t>(row) * dim;
      // Rows come in shuffled order, so each is a cold miss: ask for the next one's lines now.
      if (i + 1 < n) {
        const std::uint8_t* next =
            s.bytes.data() + static_cast<std::int64_t>(rows_[positions[static_cast<std::size_t>(i + 1)]]) * dim;
        for (std::int64_t b = 0; b < dim; b += 64) __builtin_prefetch(next + b);
      }
      for (std::int64_t j = 0; j < dim; ++j) dst[j] = static_cast<float>(src[j]) * scale;
    } else if (!s.ids.empty()) {
      const std::int32_t* src = s.ids.data() + static_cast<std::int64_t>(row) * dim;
      for (std::int64_t j = 0; j < dim; ++j) dst[j] = static_cast<float>(src[j]);
      if (ids) std::copy(src, src + dim, ids->data() + i * dim);
    } else {
      const float* src = s.values.data() + static_cast<std::int64_t>(row) * dim;
      for (std::int64_t j = 0; j < dim; ++j) dst[j] = src[j] * scale;
    }
  }
}

void DataView::gather_targets(std::span<const std::uint32_t> positions, BatchTargets& t) const {
  const SampleSet& s = *samples_;
  const auto n = positions.size();
  const auto width = static_cast<std::size_t>(s.target_width);
  t.kind = s.target_kind;
  t.count = static_cast<std::int64_t>(n);
  t.width = s.target_width;
  const bool classes = t.view().has_classes();
  t.classes.resize(classes ? n * width : 0);
  t.values.resize(classes ? 0 : n * width);
  // Unlabelled samples (prediction inputs) get class 0 or zeros: nothing reads them.
  const bool labelled = classes ? !s.labels.empty() : !s.target_values.empty();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = rows_[positions[i]];
    if (classes) {
      for (std::size_t j = 0; j < width; ++j) t.classes[i * width + j] = labelled ? s.labels[row * width + j] : 0;
    } else {
      for (std::size_t j = 0; j < width; ++j) t.values[i * width + j] = labelled ? s.target_values[row * width + j] : 0.0f;
    }
  }
}

const std::vector<std::string>& shared_data_keys() {
  static const std::vector<std::string> keys{"source", "scale", "train_limit", "test_limit", "validation_split", "classes",
                                             "augment"};
  return keys;
}

namespace {

std::vector<std::uint32_t> first_rows(std::int64_t count, std::int64_t limit) {
  const std::int64_t n = limit > 0 ? std::min(count, limit) : count;
  std::vector<std::uint32_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0u);
  return rows;
}

std::int32_t max_label(const SampleSet& s) {
  return s.labels.empty() ? 0 : *std::max_element(s.labels.begin(), s.labels.end());
}

}  // namespace

void check_samples(const SampleSet& s, const std::string& source, bool labelled) {
  const std::string& where = s.origin.empty() ? source : s.origin;
  const Shape& shape = s.sample_shape;
  if (shape.rank() < 1 || shape.rank() > Shape::kMaxRank - 1 || shape.numel() <= 0) {
    throw InputError(fmt::format("{}: data source '{}' gave samples of shape {}; a sample has 1 to 3 dimensions, "
                                 "each at least 1",
                                 where, source, shape.str()));
  }
  if (s.count < 0 || s.count > (std::int64_t{1} << 32)) {
    throw InputError(fmt::format("{}: data source '{}' gave {} samples", where, source, s.count));
  }
  const auto expected = static_cast<std::size_t>(s.count * shape.numel());
  const int kinds = !s.bytes.empty() + !s.values.empty() + !s.ids.empty();
  const std::size_t held = s.bytes.size() + s.values.size() + s.ids.size();
  if (kinds > 1 || held != expected) {
    const std::string ids = s.ids.empty() ? "" : fmt::format(" and {} ids", s.ids.size());
    throw InputError(fmt::format("{}: data source '{}' gave {} bytes{}{} values{} for {} samples of shape {} "
                                 "(expected {} of one kind)",
                                 where, source, s.bytes.size(), ids.empty() ? " and " : ", ", s.values.size(), ids,
                                 s.count, shape.str(), expected));
  }
  const auto dim = static_cast<std::size_t>(shape.numel());
  for (std::size_t i = 0; i < s.values.size(); ++i) {
    if (!std::isfinite(s.values[i])) {
      throw InputError(
          fmt::format("{}: sample {} holds a value that is not finite ({})", where, i / dim, s.values[i]));
    }
  }
  for (std::size_t i = 0; i < s.ids.size(); ++i) {
    if (s.ids[i] < 0) {
      throw InputError(fmt::format("{}: sample {} holds the token id {} at position {}; ids are 0, 1, 2, ...", where,
                                   i / dim, s.ids[i], i % dim));
    }
  }
  if (!labelled) return;
  const std::string& labels_where = s.labels_origin.empty() ? where : s.labels_origin;
  const char* kind = target_kind_name(s.target_kind);
  if (std::find(std::begin(kTargetKinds), std::end(kTargetKinds), s.target_kind) == std::end(kTargetKinds)) {
    throw InputError(fmt::format("{}: data source '{}' gave targets of an unknown kind ({})", labels_where, source,
                                 static_cast<int>(s.target_kind)));
  }
  if (s.target_width < 1 || (s.target_kind == TargetKind::Class && s.target_width != 1) ||
      s.target_width > (std::int64_t{1} << 24)) {
    throw InputError(fmt::format("{}: data source '{}' gave {} targets of width {}", labels_where, source, kind,
                                 s.target_width));
  }
  const auto width = static_cast<std::size_t>(s.target_width);
  const auto targets = static_cast<std::size_t>(s.count) * width;
  const bool classes = s.target_kind == TargetKind::Class || s.target_kind == TargetKind::ClassPerPosition;
  const std::size_t given = classes ? s.labels.size() : s.target_values.size();
  if (given != targets || (classes ? !s.target_values.empty() : !s.labels.empty())) {
    throw InputError(s.target_kind == TargetKind::Class
                         ? fmt::format("{}: {} labels for {} samples of {}", labels_where, given, s.count, where)
                         : fmt::format("{}: {} {} targets for {} samples of {} ({} per sample)", labels_where, given,
                                       kind, s.count, where, width));
  }
  if (s.target_kind == TargetKind::Class) {
    for (std::size_t i = 0; i < s.labels.size(); ++i) {
      if (s.labels[i] < 0) {
        throw InputError(fmt::format("{}: label {} of sample {} is negative; classes are 0, 1, 2, ...", labels_where,
                                     s.labels[i], i));
      }
    }
  } else if (s.target_kind == TargetKind::ClassPerPosition) {
    for (std::size_t i = 0; i < s.labels.size(); ++i) {
      if (s.labels[i] < 0) {
        throw InputError(fmt::format("{}: the label at position {} of sample {} is {}; classes are 0, 1, 2, ...",
                                     labels_where, i % width, i / width, s.labels[i]));
      }
    }
  } else {
    for (std::size_t i = 0; i < s.target_values.size(); ++i) {
      const float v = s.target_values[i];
      if (!std::isfinite(v)) {
        throw InputError(fmt::format("{}: target {} of sample {} is not finite ({})", labels_where, i % width,
                                     i / width, v));
      }
      if (s.target_kind == TargetKind::MultiLabel && v != 0.0f && v != 1.0f) {
        throw InputError(fmt::format("{}: label {} of sample {} is {}; multi-label targets are 0 or 1", labels_where,
                                     i % width, i / width, v));
      }
      if (s.target_kind == TargetKind::ClassProbabilities && !(v >= 0.0f && v <= 1.0f)) {
        throw InputError(fmt::format("{}: probability {} of sample {} is {}; class probabilities lie in [0, 1]",
                                     labels_where, i % width, i / width, v));
      }
    }
    for (std::size_t i = 0; s.target_kind == TargetKind::ClassProbabilities && i < static_cast<std::size_t>(s.count); ++i) {
      double sum = 0;
      for (std::size_t j = 0; j < width; ++j) sum += s.target_values[i * width + j];
      if (std::abs(sum - 1.0) > 1e-4) {
        throw InputError(fmt::format("{}: the class probabilities of sample {} sum to {}, not 1", labels_where, i, sum));
      }
    }
  }
}

float trained_scale(const DataSpec& spec) {
  if (spec.scale) return *spec.scale;
  if (!spec.reader) throw Error("internal error: the data source was not built");
  return detail::plugin_call({"data", spec.source, spec.plugin, spec.plugin_file}, "default_scale",
                             [&] { return spec.reader->default_scale(); });
}

namespace {

SampleSet load_split(const DataSpec& spec, Split split) {
  SampleSet s = detail::plugin_call({"data", spec.source, spec.plugin, spec.plugin_file}, "load",
                                    [&] { return spec.reader->load(split); });
  check_samples(s, spec.source, true);
  return s;
}

// data.classes: only the samples of the listed classes, renumbered by their place in the list,
// copied into a set of their own (the limits, the validation split and every reader after this
// see an ordinary set of classes 0..K-1).
void keep_classes(SampleSet& s, const std::vector<std::int32_t>& classes, bool train) {
  if (s.target_kind != TargetKind::Class) {
    throw InputError(fmt::format("{}: data.classes keeps samples by class, but the data's targets are {} (classes only)",
                                 s.labels_origin.empty() ? s.origin : s.labels_origin, target_kind_name(s.target_kind)));
  }
  const std::int32_t largest = max_label(s);
  std::vector<std::int32_t> renumber;
  for (std::size_t k = 0; k < classes.size(); ++k) {
    const auto c = static_cast<std::size_t>(classes[k]);
    if (c >= renumber.size()) renumber.resize(c + 1, -1);
    renumber[c] = static_cast<std::int32_t>(k);
  }
  const auto dim = static_cast<std::size_t>(s.sample_shape.numel());
  std::vector<std::size_t> found(classes.size(), 0);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < s.labels.size(); ++i) {
    const auto label = static_cast<std::size_t>(s.labels[i]);
    const std::int32_t to = label < renumber.size() ? renumber[label] : -1;
    if (to < 0) continue;
    ++found[static_cast<std::size_t>(to)];
    // In place, front to back: sample i moves to kept <= i.
    auto move = [&](auto& v) {
      if (!v.empty()) std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(i * dim), dim, v.begin() + static_cast<std::ptrdiff_t>(kept * dim));
    };
    move(s.bytes);
    move(s.values);
    move(s.ids);
    s.labels[kept] = to;
    ++kept;
  }
  for (std::size_t k = 0; k < classes.size(); ++k) {
    if (found[k] == 0 && train) {
      throw InputError(fmt::format("{}: data.classes lists class {}, which no training sample has (the largest class "
                                   "is {})",
                                   s.labels_origin.empty() ? s.origin : s.labels_origin, classes[k], largest));
    }
  }
  if (kept == 0) {
    throw InputError(fmt::format("{}: none of its samples is of the classes data.classes keeps",
                                 s.labels_origin.empty() ? s.origin : s.labels_origin));
  }
  auto shrink = [&](auto& v) {
    if (!v.empty()) {
      v.resize(kept * dim);
      v.shrink_to_fit();
    }
  };
  shrink(s.bytes);
  shrink(s.values);
  shrink(s.ids);
  s.labels.resize(kept);
  s.count = static_cast<std::int64_t>(kept);
}

}  // namespace

DataSplits load_data(const DataSpec& spec, std::uint64_t seed) {
  if (!spec.reader) throw Error("internal error: the data source was not built");
  SampleSet train = load_split(spec, Split::Train);
  SampleSet test = load_split(spec, Split::Test);
  if (!spec.classes.empty()) {
    keep_classes(train, spec.classes, true);
    keep_classes(test, spec.classes, false);
  }
  if (!(train.sample_shape == test.sample_shape)) {
    throw InputError(fmt::format("{} has samples of shape {} but {} has {}", train.origin, train.sample_shape.str(),
                                 test.origin, test.sample_shape.str()));
  }
  if (train.target_kind != test.target_kind || train.target_width != test.target_width ||
      train.ids.empty() != test.ids.empty()) {
    throw InputError(fmt::format("{} has {} targets of width {}{} but {} has {} targets of width {}{}",
                                 train.labels_origin.empty() ? train.origin : train.labels_origin,
                                 target_kind_name(train.target_kind), train.target_width,
                                 train.ids.empty() ? "" : " (token ids)",
                                 test.labels_origin.empty() ? test.origin : test.labels_origin,
                                 target_kind_name(test.target_kind), test.target_width,
                                 test.ids.empty() ? "" : " (token ids)"));
  }

  DataSplits d;
  if (const auto* named = dynamic_cast<const NamedSamples*>(spec.reader.get())) {
    std::vector<std::string> names = named->class_names();
    if (!spec.classes.empty() && !names.empty()) {  // data.classes renumbers them in its order
      std::vector<std::string> kept;
      for (const auto c : spec.classes) kept.push_back(static_cast<std::size_t>(c) < names.size() ? names[static_cast<std::size_t>(c)] : "");
      names = std::move(kept);
    }
    d.class_names = std::move(names);
  }
  if (const auto* kept = dynamic_cast<const SourceState*>(spec.reader.get())) {
    d.data_state = detail::plugin_call({"data", spec.source, spec.plugin, spec.plugin_file}, "save_state",
                                       [&] { return kept->save_state(); });
  }
  d.scale = trained_scale(spec);
  d.sample_shape = train.sample_shape;
  d.target_kind = train.target_kind;
  d.target_width = train.target_width;
  d.max_label = std::max(max_label(train), max_label(test));
  std::vector<std::uint32_t> rows = first_rows(train.count, spec.train_limit);
  std::vector<std::uint32_t> val_rows;
  if (spec.validation_split > 0) {
    const auto n_val = static_cast<std::size_t>(std::llround(spec.validation_split * static_cast<double>(rows.size())));
    if (n_val == 0 || n_val >= rows.size()) {
      throw InputError(
          fmt::format("data.validation_split {} leaves {} of {} training samples for validation; "
                      "it must leave at least one for each side",
                      spec.validation_split, n_val, rows.size()));
    }
    Rng rng(seed, Rng::Stream::Split);
    for (std::size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[rng.below(i)]);
    val_rows.assign(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n_val));
    rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n_val));
    std::sort(rows.begin(), rows.end());
    std::sort(val_rows.begin(), val_rows.end());
  }
  if (rows.empty()) throw InputError(fmt::format("{}: no training samples", train.origin));
  advise_huge_pages(train.bytes);
  advise_huge_pages(train.values);
  auto train_ptr = std::make_shared<const SampleSet>(std::move(train));
  if (test.count == 0) throw InputError(fmt::format("{}: no test samples", test.origin));
  auto test_rows = first_rows(test.count, spec.test_limit);
  auto test_ptr = std::make_shared<const SampleSet>(std::move(test));
  d.train = DataView(train_ptr, std::move(rows), d.scale);
  if (!val_rows.empty()) d.validation = DataView(train_ptr, std::move(val_rows), d.scale);
  d.test = DataView(test_ptr, std::move(test_rows), d.scale);
  return d;
}

}  // namespace lamina
