// What the core does with any data source's samples: the checks, the seeded validation split,
// the limits, and batches that keep the samples' shape. The source here is a test double that
// hands back the SampleSets a case gives it.
#define BOOST_TEST_MODULE dataset
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/error.hpp>

#include "runtime/dataset.hpp"
#include "test_support.hpp"

using namespace lamina;
using lamina::test::input_error_of;

namespace {

class GivenSamples final : public DataSource {
 public:
  GivenSamples(SampleSet train, SampleSet test) : train_(std::move(train)), test_(std::move(test)) {}
  SampleSet load(Split split) override { return split == Split::Train ? train_ : test_; }
  float default_scale() override { return 0.5f; }

 private:
  SampleSet train_, test_;
};

// n samples of shape (1, 2, 2): sample i holds the bytes 4i .. 4i+3, label i % 3.
SampleSet images(std::int64_t n, const std::string& origin) {
  SampleSet s;
  s.origin = origin;
  s.sample_shape = Shape{1, 2, 2};
  s.count = n;
  for (std::int64_t i = 0; i < 4 * n; ++i) s.bytes.push_back(static_cast<std::uint8_t>(i));
  for (std::int64_t i = 0; i < n; ++i) s.labels.push_back(static_cast<std::int32_t>(i % 3));
  return s;
}

DataSpec spec_of(SampleSet train, SampleSet test) {
  DataSpec spec;
  spec.source = "given";
  spec.reader = std::make_shared<GivenSamples>(std::move(train), std::move(test));
  return spec;
}


}  // namespace

BOOST_AUTO_TEST_CASE(batches_keep_the_sample_shape_and_apply_the_scale) {
  DataSpec spec = spec_of(images(5, "train"), images(2, "test"));
  DataSplits d = load_data(spec, 1);
  BOOST_TEST(d.sample_shape.str() == "(1, 2, 2)");
  BOOST_TEST(d.scale == 0.5f);  // the source's default
  Tensor x;
  BatchTargets t;
  const std::vector<std::uint32_t> rows{4, 1};
  d.train.batch(rows, x, t);
  BOOST_TEST(x.shape().str() == "(2, 1, 2, 2)");
  BOOST_TEST((t.classes == std::vector<std::int32_t>{1, 1}));
  BOOST_TEST((t.kind == TargetKind::Class && t.count == 2 && t.width == 1 && t.values.empty()));
  BOOST_TEST(x[0] == 16 * 0.5f);  // sample 4 starts at byte 16
  BOOST_TEST(x[7] == 7 * 0.5f);
  spec.scale = 2.0f;
  BOOST_TEST(load_data(spec, 1).scale == 2.0f);
  BOOST_TEST(trained_scale(spec) == 2.0f);
}

BOOST_AUTO_TEST_CASE(validation_split_is_seeded_disjoint_and_limits_apply) {
  DataSpec spec = spec_of(images(6, "train"), images(6, "test"));
  spec.validation_split = 0.5;
  spec.test_limit = 4;
  DataSplits a = load_data(spec, 7);
  DataSplits b = load_data(spec, 7);
  BOOST_TEST(a.train.size() == 3u);
  BOOST_TEST(a.validation.size() == 3u);
  BOOST_TEST(a.test.size() == 4u);
  BOOST_TEST(a.max_label == 2);
  Tensor xa, xb, xv;
  BatchTargets ya, yb, yv;
  const std::vector<std::uint32_t> all{0, 1, 2};
  a.train.batch(all, xa, ya);
  b.train.batch(all, xb, yb);
  a.validation.batch(all, xv, yv);
  BOOST_TEST(std::equal(xa.data(), xa.data() + xa.size(), xb.data()));  // same seed, same split
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) BOOST_TEST(xa[i * 4] != xv[j * 4]);  // no row on both sides
  }
  spec.train_limit = 2;
  spec.validation_split = 0.0;
  BOOST_TEST(load_data(spec, 7).train.size() == 2u);
  spec.validation_split = 0.1;  // 0.1 of 2 rows rounds to none
  BOOST_TEST(input_error_of([&] { load_data(spec, 7); }).find("validation_split") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(what_a_source_returns_is_checked_and_the_file_named) {
  SampleSet s = images(3, "x.bin");
  s.bytes.pop_back();
  BOOST_TEST(input_error_of([&] { check_samples(s, "given", true); }) ==
             "x.bin: data source 'given' gave 11 bytes and 0 values for 3 samples of shape (1, 2, 2) (expected 12 of "
             "one kind)");
  s = images(3, "x.bin");
  s.labels_origin = "y.bin";
  s.labels[2] = -4;
  BOOST_TEST(input_error_of([&] { check_samples(s, "given", true); }) ==
             "y.bin: label -4 of sample 2 is negative; classes are 0, 1, 2, ...");
  s.labels.pop_back();
  BOOST_TEST(input_error_of([&] { check_samples(s, "given", true); }) == "y.bin: 2 labels for 3 samples of x.bin");
  BOOST_TEST(input_error_of([&] { check_samples(s, "given", false); }) == "(no error)");  // prediction inputs
  SampleSet f;
  f.origin = "f.bin";
  f.sample_shape = Shape{2};
  f.count = 1;
  f.values = {1.0f, std::nanf("")};
  BOOST_TEST(input_error_of([&] { check_samples(f, "given", false); }) ==
             "f.bin: sample 0 holds a value that is not finite (nan)");
  f.sample_shape = Shape{1, 1, 1, 2};
  BOOST_TEST(input_error_of([&] { check_samples(f, "given", false); }).find("a sample has 1 to 3 dimensions") !=
             std::string::npos);
  SampleSet flat = images(2, "test.bin");
  flat.sample_shape = Shape{4};
  BOOST_TEST(input_error_of([&] { load_data(spec_of(images(2, "train.bin"), flat), 1); }) ==
             "train.bin has samples of shape (1, 2, 2) but test.bin has (4)");
  BOOST_TEST(input_error_of([&] { load_data(spec_of(images(2, "train.bin"), images(0, "test.bin")), 1); }) ==
             "test.bin: no test samples");
}

BOOST_AUTO_TEST_CASE(classes_keeps_the_listed_classes_renumbered_before_the_limits) {
  // 9 samples, labels 0 1 2 0 1 2 0 1 2; keep [2, 0]: class 2 becomes 0, class 0 becomes 1.
  DataSpec spec = spec_of(images(9, "train"), images(6, "test"));
  spec.classes = {2, 0};
  spec.train_limit = 5;  // counted among the kept samples: the first 5 of 6
  DataSplits d = load_data(spec, 1);
  BOOST_TEST(d.train.size() == 5u);
  BOOST_TEST(d.test.size() == 4u);
  BOOST_TEST(d.max_label == 1);
  Tensor x;
  BatchTargets t;
  const std::vector<std::uint32_t> rows{0, 1, 2, 3, 4};
  d.train.batch(rows, x, t);
  // The kept samples are 0, 2, 3, 5, 6 (labels 0 2 0 2 0): renumbered 1 0 1 0 1, bytes their own.
  BOOST_TEST((t.classes == std::vector<std::int32_t>{1, 0, 1, 0, 1}));
  const std::vector<int> kept{0, 2, 3, 5, 6};
  for (std::size_t k = 0; k < kept.size(); ++k) BOOST_TEST(x[static_cast<std::int64_t>(4 * k)] == 4 * kept[k] * 0.5f);

  // A class no training sample has, and targets that are not classes, are refused.
  DataSpec absent = spec_of(images(9, "train"), images(6, "test"));
  absent.classes = {0, 7};
  BOOST_TEST(input_error_of([&] { load_data(absent, 1); }) ==
             "train: data.classes lists class 7, which no training sample has (the largest class is 2)");
  SampleSet reg = images(4, "r");
  reg.labels.clear();
  reg.target_kind = TargetKind::Regression;
  reg.target_values = {0.5f, 1, 2, 3};
  DataSpec regression = spec_of(reg, reg);
  regression.classes = {0};
  BOOST_TEST(input_error_of([&] { load_data(regression, 1); }) ==
             "r: data.classes keeps samples by class, but the data's targets are regression (classes only)");
}
