// im2col and col2im (Caffe's names): a sample's receptive fields laid out as the columns of a
// matrix, so that a convolution is one matrix product.
//
//   col[(c * kh + i) * kw + j][oy * ow + ox] = x[c][oy * sy - pt + i][ox * sx - pl + j]  (0 outside)
//
// col is K x P (K = channels * kh * kw, P = oh * ow), row-major. col2im is its adjoint: it adds
// each column entry back to the input pixel it came from (dx of the convolution).
#pragma once

#include <algorithm>
#include <cstdint>

namespace lamina_conv2d {

struct Geometry {
  std::int64_t channels = 0, height = 0, width = 0;  // input sample
  std::int64_t kh = 1, kw = 1, sy = 1, sx = 1;       // kernel, stride
  std::int64_t pt = 0, pl = 0;                       // padding at the top and at the left
  std::int64_t oh = 0, ow = 0;                       // output

  std::int64_t k() const { return channels * kh * kw; }
  std::int64_t p() const { return oh * ow; }
};

// For each row of col: the range of output columns ox whose input column lies inside the image
// (the rest are padding), so the inner loops run without a bounds test per element.
inline void valid_columns(const Geometry& g, std::int64_t j, std::int64_t& first, std::int64_t& last) {
  // ix = ox * sx - pl + j in [0, width)  <=>  ox in [ceil((pl - j) / sx), floor((width - 1 + pl - j) / sx)]
  const std::int64_t lo = g.pl - j, hi = g.width - 1 + g.pl - j;
  first = lo <= 0 ? 0 : (lo + g.sx - 1) / g.sx;
  last = hi < 0 ? -1 : std::min(g.ow - 1, hi / g.sx);
}

inline void im2col(const Geometry& g, const float* __restrict x, float* __restrict col) {
  const std::int64_t p = g.p();
  for (std::int64_t c = 0; c < g.channels; ++c) {
    const float* plane = x + c * g.height * g.width;
    for (std::int64_t i = 0; i < g.kh; ++i) {
      for (std::int64_t j = 0; j < g.kw; ++j) {
        float* row = col + ((c * g.kh + i) * g.kw + j) * p;
        std::int64_t first = 0, last = -1;
        valid_columns(g, j, first, last);
        for (std::int64_t oy = 0; oy < g.oh; ++oy) {
          float* out = row + oy * g.ow;
          const std::int64_t iy = oy * g.sy - g.pt + i;
          if (iy < 0 || iy >= g.height || last < first) {
            std::fill(out, out + g.ow, 0.0f);
            continue;
          }
          std::fill(out, out + first, 0.0f);
          // Indices, not a shifted pointer: the row's start may lie before the plane's.
          const std::int64_t base = iy * g.width - g.pl + j;
          if (g.sx == 1) {
            std::copy(plane + base + first, plane + base + last + 1, out + first);
          } else {
            for (std::int64_t ox = first; ox <= last; ++ox) out[ox] = plane[base + ox * g.sx];
          }
          std::fill(out + last + 1, out + g.ow, 0.0f);
        }
      }
    }
  }
}

// dx += the columns of dcol, each added to the pixel it was read from. dx must be zeroed by
// the caller for a plain col2im.
inline void col2im_add(const Geometry& g, const float* __restrict dcol, float* __restrict dx) {
  const std::int64_t p = g.p();
  for (std::int64_t c = 0; c < g.channels; ++c) {
    float* plane = dx + c * g.height * g.width;
    for (std::int64_t i = 0; i < g.kh; ++i) {
      for (std::int64_t j = 0; j < g.kw; ++j) {
        const float* row = dcol + ((c * g.kh + i) * g.kw + j) * p;
        std::int64_t first = 0, last = -1;
        valid_columns(g, j, first, last);
        for (std::int64_t oy = 0; oy < g.oh; ++oy) {
          const std::int64_t iy = oy * g.sy - g.pt + i;
          if (iy < 0 || iy >= g.height) continue;
          const float* in = row + oy * g.ow;
          const std::int64_t base = iy * g.width - g.pl + j;
          if (g.sx == 1) {  // contiguous: vectorized (a run-time stride is not)
            for (std::int64_t ox = first; ox <= last; ++ox) plane[base + ox] += in[ox];
          } else {
            for (std::int64_t ox = first; ox <= last; ++ox) plane[base + ox * g.sx] += in[ox];
          }
        }
      }
    }
  }
}

}  // namespace lamina_conv2d
