// What the augmentations of this plugin share: a batch of images seen as N x C x H x W (a
// sample of (H, W) is one channel; a sample of rank 1 is not an image), and the per-sample
// loop on the math threads. Random numbers are drawn before the loop, in sample order, so the
// thread count never changes them.
#pragma once

#include <lamina/error.hpp>
#include <lamina/parallel.hpp>
#include <lamina/tensor.hpp>

#include <cstdint>
#include <string>

namespace lamina_augmentations {

struct Images {
  std::int64_t n = 0, c = 1, h = 0, w = 0;
  std::int64_t plane() const { return h * w; }
  std::int64_t sample() const { return c * h * w; }
};

inline Images images_of(const lamina::Shape& batched) {
  Images im;
  im.n = batched[0];
  if (batched.rank() == 4) {
    im.c = batched[1];
    im.h = batched[2];
    im.w = batched[3];
  } else {
    im.h = batched[1];
    im.w = batched[2];
  }
  return im;
}

// Refuses samples that are not images, naming the augmentation.
inline void require_images(const lamina::Shape& sample, const char* who) {
  if (sample.rank() != 2 && sample.rank() != 3) {
    throw lamina::InputError(std::string(who) + " needs images, samples of shape (C, H, W) or (H, W); these are " +
                             sample.str());
  }
}

// f(sample index) for every sample, split over the math threads as Lamina's layers split work.
template <class F>
void for_samples(std::int64_t n, std::int64_t values_per_sample, F&& f) {
  const int threads = lamina::threads_for(n * values_per_sample / 4096);
  lamina::for_ranges(n, threads, 1, [&](int, std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) f(i);
  });
}

}  // namespace lamina_augmentations
