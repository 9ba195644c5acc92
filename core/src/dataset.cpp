#include "runtime/dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <numeric>

#include "huge_pages.hpp"
#include "lamina/error.hpp"
#include "lamina/rng.hpp"

namespace fs = std::filesystem;

namespace lamina {

DataView::DataView(std::shared_ptr<const Samples> samples, std::vector<std::uint32_t> rows)
    : samples_(std::move(samples)), rows_(std::move(rows)) {}

void DataView::batch(std::span<const std::uint32_t> positions, Tensor& x, std::vector<std::int32_t>& labels) const {
  const Samples& s = *samples_;
  const std::int64_t dim = s.dim();
  const auto n = static_cast<std::int64_t>(positions.size());
  x.resize(Shape{n, dim});
  labels.resize(positions.size());
  float* out = x.data();
  // A local copy: through the reference, every store to dst could change s.scale, which kept
  // the compiler from vectorizing the conversion.
  const float scale = s.scale;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t row = rows_[positions[static_cast<std::size_t>(i)]];
    labels[static_cast<std::size_t>(i)] = s.labels[row];
    float* dst = out + i * dim;
    if (!s.pixels.empty()) {
      const std::uint8_t* src = s.pixels.data() + static_cast<std::int64_t>(row) * dim;
      // Rows come in shuffled order, so each is a cold miss: ask for the next one's lines now.
      if (i + 1 < n) {
        const std::uint8_t* next =
            s.pixels.data() + static_cast<std::int64_t>(rows_[positions[static_cast<std::size_t>(i + 1)]]) * dim;
        for (std::int64_t b = 0; b < dim; b += 64) __builtin_prefetch(next + b);
      }
      for (std::int64_t j = 0; j < dim; ++j) dst[j] = static_cast<float>(src[j]) * scale;
    } else {
      const float* src = s.features.data() + static_cast<std::int64_t>(row) * dim;
      for (std::int64_t j = 0; j < dim; ++j) dst[j] = src[j] * scale;
    }
  }
}

namespace {

fs::path find_fashion_file(const fs::path& dir, const std::string& stem) {
  std::error_code ec;
  for (const char* ext : {".gz", ""}) {
    fs::path p = dir / (stem + ext);
    if (fs::exists(p, ec)) return p;
  }
  throw InputError(
      fmt::format("Fashion-MNIST not found: {} has no {}(.gz). Install Debian's package with "
                  "`apt-get install dataset-fashion-mnist`, or point data.dir at a folder holding the four IDX files",
                  dir.string(), stem));
}

std::vector<std::uint32_t> first_rows(std::int64_t count, std::int64_t limit) {
  const std::int64_t n = limit > 0 ? std::min(count, limit) : count;
  std::vector<std::uint32_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0u);
  return rows;
}

std::int32_t max_label(const Samples& s) {
  return s.labels.empty() ? 0 : *std::max_element(s.labels.begin(), s.labels.end());
}

}  // namespace

float trained_scale(const DataSpec& spec) {
  if (spec.scale) return *spec.scale;
  return spec.source == "csv" ? 1.0f : 1.0f / 255.0f;
}

DataSplits load_data(const DataSpec& spec, std::uint64_t seed) {
  Samples train, test;
  if (spec.source == "fashion-mnist") {
    train = read_idx_pair(find_fashion_file(spec.dir, "train-images-idx3-ubyte"),
                          find_fashion_file(spec.dir, "train-labels-idx1-ubyte"));
    test = read_idx_pair(find_fashion_file(spec.dir, "t10k-images-idx3-ubyte"),
                         find_fashion_file(spec.dir, "t10k-labels-idx1-ubyte"));
  } else if (spec.source == "idx") {
    train = read_idx_pair(spec.train_images, spec.train_labels);
    test = read_idx_pair(spec.test_images, spec.test_labels);
  } else if (spec.source == "csv") {
    train = read_csv(spec.train_csv, spec.label_column, spec.header);
    test = read_csv(spec.test_csv, spec.label_column, spec.header);
  } else {
    throw InputError(fmt::format("unknown data source '{}'", spec.source));
  }
  // Compared as stored: 2x3 and 3x2 images flatten alike but are not the same data.
  if (!(train.sample_shape == test.sample_shape) || train.file_dims != test.file_dims) {
    auto shape = [](const Samples& s) {
      return s.file_dims.empty() ? s.sample_shape.str() : fmt::format("({})", fmt::join(s.file_dims, ", "));
    };
    throw InputError(
        fmt::format("{} has samples of shape {} but {} has {}", train.origin, shape(train), test.origin, shape(test)));
  }
  if (spec.scale) {
    train.scale = *spec.scale;
    test.scale = *spec.scale;
  }

  DataSplits d;
  d.scale = train.scale;
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
  advise_huge_pages(train.pixels);
  advise_huge_pages(train.features);
  auto train_ptr = std::make_shared<const Samples>(std::move(train));
  if (test.count == 0) throw InputError(fmt::format("{}: no test samples", test.origin));
  auto test_rows = first_rows(test.count, spec.test_limit);
  auto test_ptr = std::make_shared<const Samples>(std::move(test));
  d.train = DataView(train_ptr, std::move(rows));
  if (!val_rows.empty()) d.validation = DataView(train_ptr, std::move(val_rows));
  d.test = DataView(test_ptr, std::move(test_rows));
  return d;
}

}  // namespace lamina
