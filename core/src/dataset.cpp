#include "runtime/dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "huge_pages.hpp"
#include "lamina/error.hpp"
#include "lamina/rng.hpp"
#include "runtime/plugin_guard.hpp"

namespace fs = std::filesystem;

namespace lamina {

DataView::DataView(std::shared_ptr<const SampleSet> samples, std::vector<std::uint32_t> rows, float scale)
    : samples_(std::move(samples)), rows_(std::move(rows)), scale_(scale) {}

void DataView::batch(std::span<const std::uint32_t> positions, Tensor& x, std::vector<std::int32_t>& labels) const {
  const SampleSet& s = *samples_;
  const std::int64_t dim = s.sample_shape.numel();
  const auto n = static_cast<std::int64_t>(positions.size());
  x.resize(s.sample_shape.batched(n));
  labels.resize(positions.size());
  float* out = x.data();
  // A local copy: through the member, every store to dst could change it, which kept the
  // compiler from vectorizing the conversion.
  const float scale = scale_;
  const bool labelled = !s.labels.empty();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t row = rows_[positions[static_cast<std::size_t>(i)]];
    labels[static_cast<std::size_t>(i)] = labelled ? s.labels[row] : 0;
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
    } else {
      const float* src = s.values.data() + static_cast<std::int64_t>(row) * dim;
      for (std::int64_t j = 0; j < dim; ++j) dst[j] = src[j] * scale;
    }
  }
}

const std::vector<std::string>& shared_data_keys() {
  static const std::vector<std::string> keys{"source", "scale", "train_limit", "test_limit", "validation_split"};
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
  const bool bytes = !s.bytes.empty();
  if ((bytes && !s.values.empty()) || (bytes ? s.bytes.size() : s.values.size()) != expected) {
    throw InputError(fmt::format("{}: data source '{}' gave {} bytes and {} values for {} samples of shape {} "
                                 "(expected {} of one kind)",
                                 where, source, s.bytes.size(), s.values.size(), s.count, shape.str(), expected));
  }
  for (std::size_t i = 0; i < s.values.size(); ++i) {
    if (!std::isfinite(s.values[i])) {
      throw InputError(fmt::format("{}: sample {} holds a value that is not finite ({})", where,
                                   i / static_cast<std::size_t>(shape.numel()), s.values[i]));
    }
  }
  if (!labelled) return;
  const std::string& labels_where = s.labels_origin.empty() ? where : s.labels_origin;
  if (s.labels.size() != static_cast<std::size_t>(s.count)) {
    throw InputError(fmt::format("{}: {} labels for {} samples of {}", labels_where, s.labels.size(), s.count, where));
  }
  for (std::size_t i = 0; i < s.labels.size(); ++i) {
    if (s.labels[i] < 0) {
      throw InputError(fmt::format("{}: label {} of sample {} is negative; classes are 0, 1, 2, ...", labels_where,
                                   s.labels[i], i));
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

}  // namespace

DataSplits load_data(const DataSpec& spec, std::uint64_t seed) {
  if (!spec.reader) throw Error("internal error: the data source was not built");
  SampleSet train = load_split(spec, Split::Train);
  SampleSet test = load_split(spec, Split::Test);
  if (!(train.sample_shape == test.sample_shape)) {
    throw InputError(fmt::format("{} has samples of shape {} but {} has {}", train.origin, train.sample_shape.str(),
                                 test.origin, test.sample_shape.str()));
  }

  DataSplits d;
  d.scale = trained_scale(spec);
  d.sample_shape = train.sample_shape;
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
