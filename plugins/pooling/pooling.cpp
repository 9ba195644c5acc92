// Spatial pooling over samples of (channels, height, width), each channel alone:
//   max_pool2d      y = the largest x of each window (padding never wins: it is not looked at);
//                   backward sends dy to the window's first largest element (Caffe, PyTorch)
//   avg_pool2d      y = the window's sum divided by its full area, padding counted as zeros
//                   (PyTorch's count_include_pad=True); backward spreads dy / area
//   global_avg_pool (C, H, W) -> (C): the mean of each channel
// Windows: size k or [kh, kw], stride (default: the size, non-overlapping windows), padding on
// each side; the output is floor((in + 2 pad - size) / stride) + 1, as Caffe's floor mode.
// Planes (sample, channel) are split over OpenMP threads; nothing is summed across planes, so
// the numbers do not depend on the thread count. No parameters.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <lamina/error.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>
#include <string>
#include <vector>

namespace lamina_pooling {

using namespace lamina;

struct Window {
  std::int64_t channels = 0, height = 0, width = 0;
  std::int64_t kh = 2, kw = 2, sy = 2, sx = 2, ph = 0, pw = 0;
  std::int64_t oh = 0, ow = 0;
  std::int64_t in_plane() const { return height * width; }
  std::int64_t out_plane() const { return oh * ow; }
};

// Runs f(plane) for planes [0, n), split over threads when the work is worth it.
template <class F>
void over_planes(std::int64_t n, std::int64_t work, F&& f) {
  const bool parallel = !omp_in_parallel() && omp_get_max_threads() > 1 && work > 100000;
#pragma omp parallel for schedule(static) if (parallel)
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

class Pool2d : public Layer, public OnnxExportable {
 public:
  explicit Pool2d(const Config& c)
      : size_(c.sizes("size")),
        stride_(c.has("stride") ? c.sizes("stride") : c.sizes("size")),
        padding_(c.sizes("padding")),
        where_(c.where()) {}

  Shape build(const Shape& input, BuildContext&) override {
    if (input.rank() != 3) {
      throw InputError(where_ + ": pooling needs samples of (channels, height, width), but its input is " +
                       input.str());
    }
    w_.channels = input[0];
    w_.height = input[1];
    w_.width = input[2];
    w_.kh = rows_cols(size_)[0];
    w_.kw = rows_cols(size_)[1];
    w_.sy = rows_cols(stride_)[0];
    w_.sx = rows_cols(stride_)[1];
    w_.ph = rows_cols(padding_)[0];
    w_.pw = rows_cols(padding_)[1];
    if (2 * w_.ph >= w_.kh + 1 || 2 * w_.pw >= w_.kw + 1) {
      throw InputError(where_ + ": padding must be at most half the window (a window of padding alone has no input)");
    }
    const std::int64_t h = w_.height + 2 * w_.ph - w_.kh, w = w_.width + 2 * w_.pw - w_.kw;
    if (h < 0 || w < 0) {
      throw InputError(where_ + ": a " + std::to_string(w_.kh) + " x " + std::to_string(w_.kw) +
                       " window does not fit the input of " + input.str());
    }
    w_.oh = h / w_.sy + 1;
    w_.ow = w / w_.sx + 1;
    return Shape{w_.channels, w_.oh, w_.ow};
  }

  // MaxPool (which never looks at its padding either) or AveragePool, floor mode as ONNX's
  // default ceil_mode 0. An average over padding counted as zeros is written as an explicit Pad
  // of zeros and an unpadded AveragePool: ONNX's count_include_pad says the same, but OpenCV
  // 4.6 ignores it (it counts padding only in files whose producer is "pytorch").
  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    std::string x = in[0].name;
    std::vector<std::int64_t> pads{w_.ph, w_.pw, w_.ph, w_.pw};
    if (onnx_op() == std::string_view("AveragePool") && (w_.ph > 0 || w_.pw > 0)) {
      const std::int64_t all[] = {0, 0, w_.ph, w_.pw, 0, 0, w_.ph, w_.pw};  // (N, C, H, W) begins, then ends
      x = g.node("Pad", {x, g.constant_ints("pads", all)});
      pads = {0, 0, 0, 0};
    }
    return g.node(onnx_op(), {x},
                  {{"kernel_shape", std::vector<std::int64_t>{w_.kh, w_.kw}},
                   {"strides", std::vector<std::int64_t>{w_.sy, w_.sx}},
                   {"pads", std::move(pads)}});
  }

 protected:
  virtual const char* onnx_op() const = 0;

  // Calls f(output index, y0, y1, x0, x1) for every window of a plane: the rows [y0, y1) and
  // columns [x0, x1) of the input it covers, padding left out.
  template <class F>
  void for_each_window(F&& f) const {
    for (std::int64_t oy = 0; oy < w_.oh; ++oy) {
      const std::int64_t y0 = std::max<std::int64_t>(0, oy * w_.sy - w_.ph);
      const std::int64_t y1 = std::min(w_.height, oy * w_.sy - w_.ph + w_.kh);
      for (std::int64_t ox = 0; ox < w_.ow; ++ox) {
        const std::int64_t x0 = std::max<std::int64_t>(0, ox * w_.sx - w_.pw);
        const std::int64_t x1 = std::min(w_.width, ox * w_.sx - w_.pw + w_.kw);
        f(oy * w_.ow + ox, y0, y1, x0, x1);
      }
    }
  }

  Window w_;

 private:
  std::vector<std::int64_t> size_, stride_, padding_;
  std::string where_;
};

class MaxPool2d final : public Pool2d {
 public:
  const char* onnx_op() const override { return "MaxPool"; }
  using Pool2d::Pool2d;

  void forward(const Tensor& x, Tensor& y, Context&) override {
    x_ = &x;
    const std::int64_t planes = x.rows() * w_.channels;
    y.resize(Shape{x.rows(), w_.channels, w_.oh, w_.ow});
    y_ = &y;
    if (halving()) {
      over_planes(planes, planes * w_.in_plane(), [&](std::int64_t plane) { halve(x, y, plane); });
      return;
    }
    over_planes(planes, planes * w_.out_plane() * w_.kh * w_.kw, [&](std::int64_t plane) {
      const float* in = x.data() + plane * w_.in_plane();
      float* out = y.data() + plane * w_.out_plane();
      for_each_winner(in, [&](std::int64_t o, std::int64_t at) { out[o] = in[at]; });
    });
  }

  // The winners are found again from x (which lives until backward) rather than stored in
  // forward: no storage that grows with the evaluation batch, and eval-mode gradients work.
  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (!ctx.need_input_grad) return;
    const Tensor& x = *x_;
    dx.resize(x.shape());
    const std::int64_t planes = x.rows() * w_.channels;
    if (halving()) {
      over_planes(planes, planes * w_.in_plane(), [&](std::int64_t plane) { halve_backward(x, dy, dx, plane); });
      return;
    }
    over_planes(planes, planes * w_.out_plane() * w_.kh * w_.kw, [&](std::int64_t plane) {
      const float* in = x.data() + plane * w_.in_plane();
      float* d = dx.data() + plane * w_.in_plane();
      std::fill(d, d + w_.in_plane(), 0.0f);
      const float* g = dy.data() + plane * w_.out_plane();
      for_each_winner(in, [&](std::int64_t o, std::int64_t at) { d[at] += g[o]; });
    });
  }

 private:
  // The common 2 x 2 window with stride 2 and no padding gets loops of its own: two input rows
  // make one output row, and backward writes every element of dx once (no zero fill, no
  // scatter), finding each window's winner as the first of its four values equal to y, in
  // reading order (the general path's winner). Both loops are branch-free arithmetic so that
  // the compiler vectorizes them; a loop that kept the winner's index did not vectorize and ran
  // four times slower.
  bool halving() const { return w_.kh == 2 && w_.kw == 2 && w_.sy == 2 && w_.sx == 2 && w_.ph == 0 && w_.pw == 0; }

  void halve(const Tensor& x, Tensor& y, std::int64_t plane) const {
    const float* in = x.data() + plane * w_.in_plane();
    float* out = y.data() + plane * w_.out_plane();
    for (std::int64_t oy = 0; oy < w_.oh; ++oy) {
      const float* __restrict r0 = in + 2 * oy * w_.width;
      const float* __restrict r1 = r0 + w_.width;
      float* __restrict o = out + oy * w_.ow;
      for (std::int64_t ox = 0; ox < w_.ow; ++ox) {
        o[ox] = std::max(std::max(r0[2 * ox], r0[2 * ox + 1]), std::max(r1[2 * ox], r1[2 * ox + 1]));
      }
    }
  }

  void halve_backward(const Tensor& x, const Tensor& dy, Tensor& dx, std::int64_t plane) const {
    const float* in = x.data() + plane * w_.in_plane();
    const float* out = y_->data() + plane * w_.out_plane();
    float* d = dx.data() + plane * w_.in_plane();
    const float* g = dy.data() + plane * w_.out_plane();
    for (std::int64_t oy = 0; oy < w_.oh; ++oy) {
      const float* __restrict r0 = in + 2 * oy * w_.width;
      const float* __restrict r1 = r0 + w_.width;
      float* __restrict d0 = d + 2 * oy * w_.width;
      float* __restrict d1 = d0 + w_.width;
      const float* __restrict m = out + oy * w_.ow;
      const float* __restrict v = g + oy * w_.ow;
      std::int64_t ox = 0;
#ifdef __AVX2__
      // Eight windows at a time (four when a row has fewer than eight), the last group placed
      // to end at the row's end and overlap the one before: its windows are computed twice,
      // to the same values. The compiler does not vectorize the scalar loop below (its loads
      // and stores interleave two columns per window), so it is spelled out here.
      if (w_.ow >= 8) {
        for (std::int64_t at = 0;; at = std::min(at + 8, w_.ow - 8)) {
          backward8(r0 + 2 * at, r1 + 2 * at, m + at, v + at, d0 + 2 * at, d1 + 2 * at);
          if (at == w_.ow - 8) break;
        }
        ox = w_.ow;
      } else if (w_.ow >= 4) {
        backward4(r0, r1, m, v, d0, d1);
        backward4(r0 + 2 * (w_.ow - 4), r1 + 2 * (w_.ow - 4), m + w_.ow - 4, v + w_.ow - 4, d0 + 2 * (w_.ow - 4),
                  d1 + 2 * (w_.ow - 4));
        ox = w_.ow;
      }
#endif
      for (; ox < w_.ow; ++ox) {
        const float t0 = r0[2 * ox] == m[ox] ? 1.0f : 0.0f;
        const float t1 = (r0[2 * ox + 1] == m[ox] ? 1.0f : 0.0f) * (1.0f - t0);
        const float t2 = (r1[2 * ox] == m[ox] ? 1.0f : 0.0f) * (1.0f - t0 - t1);
        const float t3 = 1.0f - t0 - t1 - t2;
        d0[2 * ox] = v[ox] * t0;
        d0[2 * ox + 1] = v[ox] * t1;
        d1[2 * ox] = v[ox] * t2;
        d1[2 * ox + 1] = v[ox] * t3;
      }
      if (w_.width % 2 != 0) d0[w_.width - 1] = d1[w_.width - 1] = 0.0f;  // the column no window reads
    }
    if (w_.height % 2 != 0) std::fill(d + (w_.height - 1) * w_.width, d + w_.in_plane(), 0.0f);
  }

#ifdef __AVX2__
  // The gradient of eight windows: r0, r1 their two input rows, m their outputs, g their
  // gradients, d0, d1 the two rows of dx. The winner is the first of the four equal to m.
  static void backward8(const float* r0, const float* r1, const float* m, const float* g, float* d0, float* d1) {
    const __m256 mv = _mm256_loadu_ps(m), gv = _mm256_loadu_ps(g);
    const __m256 e0 = _mm256_cmp_ps(even(r0), mv, _CMP_EQ_OQ);
    const __m256 e1 = _mm256_andnot_ps(e0, _mm256_cmp_ps(odd(r0), mv, _CMP_EQ_OQ));
    const __m256 e01 = _mm256_or_ps(e0, e1);
    const __m256 e2 = _mm256_andnot_ps(e01, _mm256_cmp_ps(even(r1), mv, _CMP_EQ_OQ));
    const __m256 e3 = _mm256_andnot_ps(_mm256_or_ps(e01, e2), _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
    interleave(_mm256_and_ps(e0, gv), _mm256_and_ps(e1, gv), d0);
    interleave(_mm256_and_ps(e2, gv), _mm256_and_ps(e3, gv), d1);
  }
  // The same for four windows, with 128-bit vectors.
  static void backward4(const float* r0, const float* r1, const float* m, const float* g, float* d0, float* d1) {
    auto even4 = [](const float* p) { return _mm_shuffle_ps(_mm_loadu_ps(p), _mm_loadu_ps(p + 4), _MM_SHUFFLE(2, 0, 2, 0)); };
    auto odd4 = [](const float* p) { return _mm_shuffle_ps(_mm_loadu_ps(p), _mm_loadu_ps(p + 4), _MM_SHUFFLE(3, 1, 3, 1)); };
    auto store = [](__m128 e, __m128 o, float* out) {
      _mm_storeu_ps(out, _mm_unpacklo_ps(e, o));
      _mm_storeu_ps(out + 4, _mm_unpackhi_ps(e, o));
    };
    const __m128 mv = _mm_loadu_ps(m), gv = _mm_loadu_ps(g);
    const __m128 e0 = _mm_cmpeq_ps(even4(r0), mv);
    const __m128 e1 = _mm_andnot_ps(e0, _mm_cmpeq_ps(odd4(r0), mv));
    const __m128 e01 = _mm_or_ps(e0, e1);
    const __m128 e2 = _mm_andnot_ps(e01, _mm_cmpeq_ps(even4(r1), mv));
    const __m128 e3 = _mm_andnot_ps(_mm_or_ps(e01, e2), _mm_castsi128_ps(_mm_set1_epi32(-1)));
    store(_mm_and_ps(e0, gv), _mm_and_ps(e1, gv), d0);
    store(_mm_and_ps(e2, gv), _mm_and_ps(e3, gv), d1);
  }
  // Elements 0, 2, ..., 14 and 1, 3, ..., 15 of p[0..15], in order.
  static __m256 even(const float* p) {
    const __m256 s = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  static __m256 odd(const float* p) {
    const __m256 s = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  // out[0..15] = e[0], o[0], e[1], o[1], ...
  static void interleave(__m256 e, __m256 o, float* out) {
    const __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(out + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
#endif

  // Calls f(output index, index of the window's largest input) for every window of a plane.
  template <class F>
  void for_each_winner(const float* in, F&& f) const {
    for_each_window([&](std::int64_t o, std::int64_t y0, std::int64_t y1, std::int64_t x0, std::int64_t x1) {
      std::int64_t at = y0 * w_.width + x0;
      float best = in[at];
      for (std::int64_t iy = y0; iy < y1; ++iy) {
        for (std::int64_t ix = x0; ix < x1; ++ix) {
          if (in[iy * w_.width + ix] > best) {  // strict: the first of equal values wins
            best = in[iy * w_.width + ix];
            at = iy * w_.width + ix;
          }
        }
      }
      f(o, at);
    });
  }

  const Tensor* x_ = nullptr;
  const Tensor* y_ = nullptr;  // x and y live until backward (lamina/layer.hpp)
};

class AvgPool2d final : public Pool2d {
 public:
  const char* onnx_op() const override { return "AveragePool"; }
  using Pool2d::Pool2d;

  void forward(const Tensor& x, Tensor& y, Context&) override {
    const std::int64_t planes = x.rows() * w_.channels;
    y.resize(Shape{x.rows(), w_.channels, w_.oh, w_.ow});
    shape_ = x.shape();
    const float inv_area = 1.0f / static_cast<float>(w_.kh * w_.kw);
    over_planes(planes, planes * w_.out_plane() * w_.kh * w_.kw, [&](std::int64_t plane) {
      const float* in = x.data() + plane * w_.in_plane();
      float* out = y.data() + plane * w_.out_plane();
      for_each_window([&](std::int64_t o, std::int64_t y0, std::int64_t y1, std::int64_t x0, std::int64_t x1) {
        float sum = 0.0f;
        for (std::int64_t iy = y0; iy < y1; ++iy) {
          for (std::int64_t ix = x0; ix < x1; ++ix) sum += in[iy * w_.width + ix];
        }
        out[o] = sum * inv_area;
      });
    });
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(shape_);
    const std::int64_t planes = dy.rows() * w_.channels;
    const float inv_area = 1.0f / static_cast<float>(w_.kh * w_.kw);
    over_planes(planes, planes * w_.out_plane() * w_.kh * w_.kw, [&](std::int64_t plane) {
      float* d = dx.data() + plane * w_.in_plane();
      std::fill(d, d + w_.in_plane(), 0.0f);
      const float* g = dy.data() + plane * w_.out_plane();
      for_each_window([&](std::int64_t o, std::int64_t y0, std::int64_t y1, std::int64_t x0, std::int64_t x1) {
        const float share = g[o] * inv_area;
        for (std::int64_t iy = y0; iy < y1; ++iy) {
          for (std::int64_t ix = x0; ix < x1; ++ix) d[iy * w_.width + ix] += share;
        }
      });
    });
  }

 private:
  Shape shape_;
};

class GlobalAvgPool final : public Layer, public OnnxExportable {
 public:
  // GlobalAveragePool gives N x C x 1 x 1; Flatten makes it the layer's N x C.
  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    return g.node("Flatten", {g.node("GlobalAveragePool", {in[0].name})}, {{"axis", std::int64_t{1}}});
  }
  explicit GlobalAvgPool(const Config& c) : where_(c.where()) {}

  Shape build(const Shape& input, BuildContext&) override {
    if (input.rank() != 3) {
      throw InputError(where_ + ": global_avg_pool needs samples of (channels, height, width), but its input is " +
                       input.str());
    }
    in_ = input;
    return Shape{input[0]};
  }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    const std::int64_t planes = x.rows() * in_[0], area = in_[1] * in_[2];
    y.resize(Shape{x.rows(), in_[0]});
    const float inv = 1.0f / static_cast<float>(area);
    for (std::int64_t p = 0; p < planes; ++p) {
      const float* in = x.data() + p * area;
      float sum = 0.0f;
      for (std::int64_t i = 0; i < area; ++i) sum += in[i];
      y[p] = sum * inv;
    }
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (!ctx.need_input_grad) return;
    const std::int64_t planes = dy.rows() * in_[0], area = in_[1] * in_[2];
    dx.resize(Shape{dy.rows(), in_[0], in_[1], in_[2]});
    const float inv = 1.0f / static_cast<float>(area);
    for (std::int64_t p = 0; p < planes; ++p) std::fill(dx.data() + p * area, dx.data() + (p + 1) * area, dy[p] * inv);
  }

 private:
  std::string where_;
  Shape in_;
};

Schema window_keys() {
  return {
      Key::sizes("size", "window: k for k x k, or [kh, kw]").def(2).at_least(1).at_most(255),
      Key::sizes("stride", "step between windows: s or [sy, sx] (default: the size)").at_least(1).at_most(255),
      Key::sizes("padding", "rows and columns added on each side: p or [ph, pw], at most half the window")
          .def(0)
          .at_least(0)
          .at_most(127),
  };
}

void register_types(Registrar& r) {
  r.add<Layer>("max_pool2d", "the largest value of each window, per channel", window_keys(),
               [](const Config& c) { return std::make_unique<MaxPool2d>(c); });
  r.add<Layer>("avg_pool2d", "the mean of each window (padding counted as zeros), per channel", window_keys(),
               [](const Config& c) { return std::make_unique<AvgPool2d>(c); });
  r.add<Layer>("global_avg_pool", "(channels, height, width) -> (channels): the mean of each channel", {},
               [](const Config& c) { return std::make_unique<GlobalAvgPool>(c); });
}

}  // namespace lamina_pooling

LAMINA_PLUGIN("pooling", LAMINA_VERSION_STRING, "Spatial pooling: max_pool2d, avg_pool2d, global_avg_pool",
              lamina_pooling::register_types)
