#include "pixel.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "image_batch.hpp"

namespace lamina_augmentations {

using namespace lamina;

namespace {

// Gaussian noise of standard deviation `std` added to every input value (in the scaled units the
// first layer sees). Each sample draws from its own stream, seeded in sample order from the
// batch's, so the threads need not share one.
class Noise final : public Augmentation {
 public:
  explicit Noise(double std) : std_(static_cast<float>(std)) {}
  bool is_identity() const override { return std_ == 0; }

  void apply(Tensor& x, AugmentTargets&, Rng& rng) override {
    if (std_ == 0) return;
    const std::int64_t n = x.rows(), d = x.cols();
    seeds_.resize(static_cast<std::size_t>(n));
    for (auto& s : seeds_) s = rng.next();
    for_samples(n, d, [&](std::int64_t i) {
      Rng own(seeds_[static_cast<std::size_t>(i)], Rng::Stream::User);
      float* v = x.data() + i * d;
      for (std::int64_t j = 0; j < d; ++j) v[j] += own.normal(0.0f, std_);
    });
  }

 private:
  float std_;
  std::vector<std::uint64_t> seeds_;
};

// Cutout (DeVries & Taylor 2017, arXiv:1708.04552): a size x size square, centred at a uniform
// pixel and clipped at the borders, set to zero in every channel, in each image with
// probability p.
class Cutout final : public Augmentation {
 public:
  Cutout(std::int64_t size, double p) : size_(size), p_(p) {}
  TargetKind output_kind(const Shape& sample, TargetKind in) const override {
    require_images(sample, "cutout");
    return in;
  }
  bool is_identity() const override { return size_ == 0 || p_ == 0; }

  void apply(Tensor& x, AugmentTargets&, Rng& rng) override {
    if (is_identity()) return;
    const Images im = images_of(x.shape());
    boxes_.resize(static_cast<std::size_t>(3 * im.n));
    for (std::int64_t i = 0; i < im.n; ++i) {
      boxes_[3 * i] = static_cast<double>(rng.uniform()) < p_;
      boxes_[3 * i + 1] = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(im.h)));
      boxes_[3 * i + 2] = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(im.w)));
    }
    for_samples(im.n, im.sample(), [&](std::int64_t i) {
      if (!boxes_[3 * i]) return;
      const std::int64_t y0 = std::max<std::int64_t>(0, boxes_[3 * i + 1] - size_ / 2);
      const std::int64_t y1 = std::min(im.h, boxes_[3 * i + 1] - size_ / 2 + size_);
      const std::int64_t x0 = std::max<std::int64_t>(0, boxes_[3 * i + 2] - size_ / 2);
      const std::int64_t x1 = std::min(im.w, boxes_[3 * i + 2] - size_ / 2 + size_);
      for (std::int64_t ch = 0; ch < im.c; ++ch) {
        float* plane = x.data() + i * im.sample() + ch * im.plane();
        for (std::int64_t y = y0; y < y1; ++y) std::fill(plane + y * im.w + x0, plane + y * im.w + x1, 0.0f);
      }
    });
  }

 private:
  std::int64_t size_;
  double p_;
  std::vector<std::int64_t> boxes_;
};

}  // namespace

std::unique_ptr<Augmentation> make_noise(const Config& c) { return std::make_unique<Noise>(c.get<double>("std")); }
std::unique_ptr<Augmentation> make_cutout(const Config& c) {
  return std::make_unique<Cutout>(c.get<std::int64_t>("size"), c.get<double>("p"));
}

}  // namespace lamina_augmentations
