// A data source that reads no file: a synthetic classification set drawn from a seed. Class c's
// samples are normal around a centre on a circle of radius `separation` in the first two of
// `features` dimensions (the others centred at 0), with standard deviation `spread` in every
// dimension. The same seed gives the same samples on every machine (lamina::Rng is portable),
// so a run on it is reproducible like a run on a file.
//
//   data: {source: gaussian_blobs, num_classes: 4, features: 8, seed: 7, validation_split: 0.2}
#include <lamina/data_source.hpp>
#include <lamina/plugin.hpp>
#include <lamina/rng.hpp>

#include <cmath>
#include <memory>
#include <numbers>

namespace {

class GaussianBlobs final : public lamina::DataSource {
 public:
  explicit GaussianBlobs(const lamina::Config& c)
      : classes_(c.get<std::int64_t>("num_classes")),
        features_(c.get<std::int64_t>("features")),
        counts_{c.get<std::int64_t>("train_samples"), c.get<std::int64_t>("test_samples")},
        separation_(c.get<float>("separation")),
        spread_(c.get<float>("spread")),
        seed_(static_cast<std::uint64_t>(c.get<std::int64_t>("seed"))) {}

  lamina::SampleSet load(lamina::Split split) override {
    const int which = split == lamina::Split::Train ? 0 : 1;
    // One stream per split: the test samples do not depend on how many training samples there are.
    lamina::Rng rng(seed_, static_cast<std::uint64_t>(lamina::Rng::Stream::User) + 1 + static_cast<std::uint64_t>(which));
    lamina::SampleSet s;
    s.origin = which == 0 ? "gaussian_blobs (train)" : "gaussian_blobs (test)";
    s.sample_shape = lamina::Shape{features_};
    s.count = counts_[which];
    s.values.reserve(static_cast<std::size_t>(s.count * features_));
    for (std::int64_t i = 0; i < s.count; ++i) {
      const auto label = static_cast<std::int32_t>(i % classes_);
      const double angle = 2 * std::numbers::pi * static_cast<double>(label) / static_cast<double>(classes_);
      for (std::int64_t f = 0; f < features_; ++f) {
        const double centre = f == 0 ? separation_ * std::cos(angle) : f == 1 ? separation_ * std::sin(angle) : 0.0;
        s.values.push_back(rng.normal(static_cast<float>(centre), spread_));
      }
      s.labels.push_back(label);
    }
    return s;
  }

  float default_scale() override { return 1.0f; }

 private:
  std::int64_t classes_, features_;
  std::int64_t counts_[2];
  float separation_, spread_;
  std::uint64_t seed_;
};

void register_types(lamina::Registrar& r) {
  using lamina::Key;
  r.add<lamina::DataSource>(
      "gaussian_blobs", "a synthetic set drawn from a seed: one normal blob per class",
      lamina::Schema{
          Key::integer("num_classes", "number of classes (not `classes`: that data key is the core's, which keeps some of them)").def(3).at_least(2).at_most(1000),
          Key::integer("features", "dimensions of a sample (at least 2)").def(2).at_least(2).at_most(1 << 16),
          Key::integer("train_samples", "training samples").def(600).at_least(1).at_most(10000000),
          Key::integer("test_samples", "test samples").def(300).at_least(1).at_most(10000000),
          Key::number("separation", "radius of the circle the class centres lie on").def(3.0).at_least(0),
          Key::number("spread", "standard deviation of each blob").def(1.0).above(0),
          Key::integer("seed", "draws the samples").def(0).at_least(0),
      },
      [](const lamina::Config& c) { return std::make_unique<GaussianBlobs>(c); });
}

}  // namespace

LAMINA_PLUGIN("gaussian_blobs", "1.0.0", "A synthetic data source (an out-of-tree example)", register_types)
