#include "image_convert.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lamina_image_folder {

namespace {

// Where output coordinate i of `out` reads from an axis of `in` pixels: the lower source index
// and the weight of the upper one.
struct Tap {
  std::int64_t lo = 0, hi = 0;
  float w = 0;
};

std::vector<Tap> taps(std::int64_t in, std::int64_t out) {
  std::vector<Tap> t(static_cast<std::size_t>(out));
  const double ratio = static_cast<double>(in) / static_cast<double>(out);
  for (std::int64_t i = 0; i < out; ++i) {
    const double src = std::clamp((static_cast<double>(i) + 0.5) * ratio - 0.5, 0.0, static_cast<double>(in - 1));
    const auto lo = static_cast<std::int64_t>(std::floor(src));
    t[static_cast<std::size_t>(i)] = {lo, std::min(lo + 1, in - 1), static_cast<float>(src - static_cast<double>(lo))};
  }
  return t;
}

std::uint8_t luma(const std::uint8_t* rgb) {
  return static_cast<std::uint8_t>(std::lround(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]));
}

}  // namespace

void to_sample(const Image& image, std::int64_t channels, std::int64_t height, std::int64_t width,
               std::uint8_t* out) {
  const std::int64_t w = image.width, h = image.height, c = image.channels;
  // The value of channel ch at (y, x) of the source, converted to `channels`.
  auto at = [&](std::int64_t ch, std::int64_t y, std::int64_t x) -> std::uint8_t {
    const std::uint8_t* p = image.pixels.data() + (y * w + x) * c;
    if (c == channels) return p[ch];
    return c == 1 ? p[0] : luma(p);
  };
  if (h == height && w == width) {
    for (std::int64_t ch = 0; ch < channels; ++ch)
      for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) out[(ch * h + y) * w + x] = at(ch, y, x);
    return;
  }
  const auto ty = taps(h, height), tx = taps(w, width);
  for (std::int64_t ch = 0; ch < channels; ++ch) {
    for (std::int64_t y = 0; y < height; ++y) {
      const Tap& a = ty[static_cast<std::size_t>(y)];
      for (std::int64_t x = 0; x < width; ++x) {
        const Tap& b = tx[static_cast<std::size_t>(x)];
        const float top = (1 - b.w) * at(ch, a.lo, b.lo) + b.w * at(ch, a.lo, b.hi);
        const float bottom = (1 - b.w) * at(ch, a.hi, b.lo) + b.w * at(ch, a.hi, b.hi);
        const float v = (1 - a.w) * top + a.w * bottom;
        out[(ch * height + y) * width + x] = static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
}

}  // namespace lamina_image_folder
