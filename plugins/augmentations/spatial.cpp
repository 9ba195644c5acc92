#include "spatial.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "image_batch.hpp"

namespace lamina_augmentations {

using namespace lamina;

namespace {

// Where a source coordinate outside [0, size) reads from: -1 for the fill value (zeros), the
// nearest edge pixel (edge), or the mirror image without repeating the edge (reflect, numpy's
// and torchvision's "reflect").
enum class Fill { Zeros, Edge, Reflect };

Fill fill_named(const std::string& s) { return s == "edge" ? Fill::Edge : s == "reflect" ? Fill::Reflect : Fill::Zeros; }

std::int64_t source_index(std::int64_t i, std::int64_t size, Fill fill) {
  if (i >= 0 && i < size) return i;
  switch (fill) {
    case Fill::Zeros:
      return -1;
    case Fill::Edge:
      return std::clamp<std::int64_t>(i, 0, size - 1);
    case Fill::Reflect: {
      if (size == 1) return 0;
      const std::int64_t period = 2 * (size - 1);
      std::int64_t m = i % period;
      if (m < 0) m += period;
      return m < size ? m : period - m;
    }
  }
  return -1;
}

// A translation of each image by its own random offset (dy, dx), each uniform in [-max, max]:
// random_crop's padding is the largest offset in pixels; random_shift's is a fraction of the size.
class Translate final : public Augmentation {
 public:
  Translate(const char* name, std::int64_t padding, double fraction, Fill fill)
      : name_(name), padding_(padding), fraction_(fraction), fill_(fill) {}

  TargetKind output_kind(const Shape& sample, TargetKind in) const override {
    require_images(sample, name_);
    return in;
  }
  bool is_identity() const override { return padding_ == 0 && fraction_ == 0; }

  void apply(Tensor& x, AugmentTargets&, Rng& rng) override {
    const Images im = images_of(x.shape());
    const std::int64_t my = padding_ > 0 ? padding_ : std::llround(fraction_ * static_cast<double>(im.h));
    const std::int64_t mx = padding_ > 0 ? padding_ : std::llround(fraction_ * static_cast<double>(im.w));
    if (my == 0 && mx == 0) return;
    offsets_.resize(static_cast<std::size_t>(2 * im.n));
    for (std::int64_t i = 0; i < im.n; ++i) {
      offsets_[2 * i] = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * my + 1))) - my;
      offsets_[2 * i + 1] = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * mx + 1))) - mx;
    }
    const int threads = threads_for(im.n * im.sample() / 4096);
    if (scratch_.size() < static_cast<std::size_t>(threads * im.plane())) scratch_.resize(threads * im.plane());
    for_ranges(im.n, threads, 1, [&](int t, std::int64_t begin, std::int64_t end) {
      float* tmp = scratch_.data() + t * im.plane();
      for (std::int64_t i = begin; i < end; ++i) {
        const std::int64_t dy = offsets_[2 * i], dx = offsets_[2 * i + 1];
        if (dy == 0 && dx == 0) continue;
        for (std::int64_t ch = 0; ch < im.c; ++ch) {
          float* plane = x.data() + i * im.sample() + ch * im.plane();
          std::copy_n(plane, im.plane(), tmp);
          for (std::int64_t y = 0; y < im.h; ++y) {
            const std::int64_t sy = source_index(y + dy, im.h, fill_);
            float* out = plane + y * im.w;
            if (sy < 0) {
              std::fill_n(out, im.w, 0.0f);
              continue;
            }
            const float* in = tmp + sy * im.w;
            for (std::int64_t xx = 0; xx < im.w; ++xx) {
              const std::int64_t sx = source_index(xx + dx, im.w, fill_);
              out[xx] = sx < 0 ? 0.0f : in[sx];
            }
          }
        }
      }
    });
  }

 private:
  const char* name_;
  std::int64_t padding_;
  double fraction_;
  Fill fill_;
  std::vector<std::int64_t> offsets_;
  std::vector<float> scratch_;  // one plane per thread
};

// Each image mirrored left to right with probability p.
class HorizontalFlip final : public Augmentation {
 public:
  explicit HorizontalFlip(double p) : p_(p) {}
  TargetKind output_kind(const Shape& sample, TargetKind in) const override {
    require_images(sample, "hflip");
    return in;
  }
  bool is_identity() const override { return p_ == 0; }

  void apply(Tensor& x, AugmentTargets&, Rng& rng) override {
    const Images im = images_of(x.shape());
    flip_.resize(static_cast<std::size_t>(im.n));
    for (std::int64_t i = 0; i < im.n; ++i) flip_[i] = static_cast<double>(rng.uniform()) < p_;
    for_samples(im.n, im.sample(), [&](std::int64_t i) {
      if (!flip_[i]) return;
      float* s = x.data() + i * im.sample();
      for (std::int64_t row = 0; row < im.c * im.h; ++row) std::reverse(s + row * im.w, s + (row + 1) * im.w);
    });
  }

 private:
  double p_;
  std::vector<char> flip_;
};

}  // namespace

std::unique_ptr<Augmentation> make_random_crop(const Config& c) {
  return std::make_unique<Translate>("random_crop", c.get<std::int64_t>("padding"), 0.0,
                                     fill_named(c.get<std::string>("fill")));
}
std::unique_ptr<Augmentation> make_random_shift(const Config& c) {
  return std::make_unique<Translate>("random_shift", 0, c.get<double>("fraction"), fill_named(c.get<std::string>("fill")));
}
std::unique_ptr<Augmentation> make_hflip(const Config& c) { return std::make_unique<HorizontalFlip>(c.get<double>("p")); }

}  // namespace lamina_augmentations
