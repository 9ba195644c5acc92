// conv2d, max_pool2d, avg_pool2d, global_avg_pool and batchnorm on (C, H, W) samples against
// references written here from the definitions, loop by loop, in double: forward outputs and
// the gradients of a fixed random objective sum(y * r) with respect to x and every parameter.
// The references share no code with the plugins (which use im2col + Eigen GEMM).
#define BOOST_TEST_MODULE spatial
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/layer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

struct Run {
  Tensor y, dx;
  std::vector<Tensor> grads;
};

std::vector<float> randoms(std::int64_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = rng.normal(0.0f, 1.0f);
  return v;
}

Tensor tensor(const Shape& s, const std::vector<float>& v) {
  Tensor t(s);
  std::copy(v.begin(), v.begin() + t.size(), t.data());
  return t;
}

// forward(x) in `mode`, then backward(r) with r fixed random.
Run run(Layer& layer, const Tensor& x, const std::vector<float>& r, Mode mode = Mode::Train) {
  Rng rng(1);
  Context ctx{mode, &rng, true};
  Run out;
  layer.forward(x, out.y, ctx);
  const Tensor dy = tensor(out.y.shape(), r);
  layer.backward(dy, out.dx, ctx);
  for (auto& p : layer.params()) out.grads.push_back(p.grad.clone());
  return out;
}

std::unique_ptr<Layer> built(const std::string& spec, const Shape& in) {
  auto layer = builtin_registry().create<Layer>(Config::parse(spec));
  Rng rng(7);
  BuildContext bctx{&rng, "layers.0"};
  layer->build(in, bctx);
  return layer;
}

double max_diff(const Tensor& a, const std::vector<double>& b) {
  BOOST_REQUIRE(static_cast<std::size_t>(a.size()) == b.size());
  double m = 0;
  for (std::size_t i = 0; i < b.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[static_cast<std::int64_t>(i)]) - b[i]));
  return m;
}

struct ConvCase {
  const char* spec;
  std::int64_t n, c, h, w, f, kh, kw, sy, sx, pt, pl, oh, ow;
};

}  // namespace

BOOST_AUTO_TEST_CASE(conv2d_matches_a_direct_convolution) {
  const ConvCase cases[] = {
      {"{type: conv2d, filters: 4, kernel: 3}", 2, 3, 5, 6, 4, 3, 3, 1, 1, 0, 0, 3, 4},
      {"{type: conv2d, filters: 3, kernel: 3, padding: same}", 3, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 5, 5},
      {"{type: conv2d, filters: 2, kernel: [3, 2], stride: [2, 1], padding: [1, 0]}", 2, 2, 6, 5, 2, 3, 2, 2, 1, 1, 0, 3,
       4},
      // same with stride 2 on an even size: the extra padding row and column go bottom and right
      {"{type: conv2d, filters: 2, kernel: 4, stride: 2, padding: same, bias: false}", 2, 1, 6, 6, 2, 4, 4, 2, 2, 1, 1,
       3, 3},
      {"{type: conv2d, filters: 5, kernel: 1}", 2, 3, 2, 3, 5, 1, 1, 1, 1, 0, 0, 2, 3},
  };
  for (const auto& k : cases) {
    BOOST_TEST_CONTEXT(k.spec) {
      auto layer = built(k.spec, Shape{k.c, k.h, k.w});
      BOOST_TEST((layer->params()[0].value.shape() == Shape{k.f, k.c, k.kh, k.kw}));
      const bool bias = layer->params().size() == 2;
      // Non-trivial bias values, so the bias's part of forward is checked too.
      if (bias) {
        for (std::int64_t i = 0; i < k.f; ++i) layer->params()[1].value[i] = 0.1f * static_cast<float>(i + 1);
      }
      const Tensor& W = layer->params()[0].value;
      const Tensor x = tensor(Shape{k.n, k.c, k.h, k.w}, randoms(k.n * k.c * k.h * k.w, 11));
      const std::vector<float> r = randoms(k.n * k.f * k.oh * k.ow, 12);
      const Run got = run(*layer, x, r);
      BOOST_TEST((got.y.shape() == Shape{k.n, k.f, k.oh, k.ow}));

      std::vector<double> y(static_cast<std::size_t>(k.n * k.f * k.oh * k.ow)), dx(static_cast<std::size_t>(x.size())),
          dw(static_cast<std::size_t>(W.size())), db(static_cast<std::size_t>(k.f));
      auto xi = [&](std::int64_t s, std::int64_t c, std::int64_t i, std::int64_t j) { return ((s * k.c + c) * k.h + i) * k.w + j; };
      auto wi = [&](std::int64_t f, std::int64_t c, std::int64_t i, std::int64_t j) { return ((f * k.c + c) * k.kh + i) * k.kw + j; };
      for (std::int64_t s = 0; s < k.n; ++s) {
        for (std::int64_t f = 0; f < k.f; ++f) {
          for (std::int64_t oy = 0; oy < k.oh; ++oy) {
            for (std::int64_t ox = 0; ox < k.ow; ++ox) {
              const std::int64_t o = ((s * k.f + f) * k.oh + oy) * k.ow + ox;
              double acc = bias ? layer->params()[1].value[f] : 0.0;
              const double g = r[static_cast<std::size_t>(o)];
              db[static_cast<std::size_t>(f)] += g;
              for (std::int64_t c = 0; c < k.c; ++c) {
                for (std::int64_t i = 0; i < k.kh; ++i) {
                  for (std::int64_t j = 0; j < k.kw; ++j) {
                    const std::int64_t iy = oy * k.sy - k.pt + i, ix = ox * k.sx - k.pl + j;
                    if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;
                    acc += static_cast<double>(W[wi(f, c, i, j)]) * x[xi(s, c, iy, ix)];
                    dw[static_cast<std::size_t>(wi(f, c, i, j))] += g * x[xi(s, c, iy, ix)];
                    dx[static_cast<std::size_t>(xi(s, c, iy, ix))] += g * W[wi(f, c, i, j)];
                  }
                }
              }
              y[static_cast<std::size_t>(o)] = acc;
            }
          }
        }
      }
      BOOST_TEST(max_diff(got.y, y) < 1e-4);
      BOOST_TEST(max_diff(got.dx, dx) < 1e-4);
      BOOST_TEST(max_diff(got.grads[0], dw) < 1e-4);
      if (bias) BOOST_TEST(max_diff(got.grads[1], db) < 1e-4);
    }
  }
}

BOOST_AUTO_TEST_CASE(conv2d_gives_the_same_numbers_at_any_thread_count_it_is_run_with_twice) {
  auto layer = built("{type: conv2d, filters: 8, kernel: 3, padding: same}", Shape{4, 12, 12});
  const Tensor x = tensor(Shape{16, 4, 12, 12}, randoms(16 * 4 * 144, 3));
  const std::vector<float> r = randoms(16 * 8 * 144, 4);
  const Run a = run(*layer, x, r), b = run(*layer, x, r);
  BOOST_TEST(std::equal(a.grads[0].data(), a.grads[0].data() + a.grads[0].size(), b.grads[0].data()));
  BOOST_TEST(std::equal(a.dx.data(), a.dx.data() + a.dx.size(), b.dx.data()));
}

BOOST_AUTO_TEST_CASE(pooling_matches_direct_definitions) {
  struct PoolCase {
    const char* spec;
    std::int64_t kh, kw, sy, sx, ph, pw, oh, ow, h, w;
    bool ties;  // inputs on a coarse grid with zeros, as after a ReLU: equal values in most windows
  };
  const std::int64_t n = 2, c = 3;
  const PoolCase cases[] = {
      {"{type: max_pool2d}", 2, 2, 2, 2, 0, 0, 3, 2, 6, 5, false},
      // wide rows: the 2 x 2 path's eight-window loop and its scalar tail; odd sizes
      {"{type: max_pool2d}", 2, 2, 2, 2, 0, 0, 2, 18, 5, 37, false},
      {"{type: max_pool2d}", 2, 2, 2, 2, 0, 0, 2, 18, 5, 37, true},
      {"{type: max_pool2d}", 2, 2, 2, 2, 0, 0, 7, 7, 14, 14, true},  // four windows at a time
      {"{type: max_pool2d}", 2, 2, 2, 2, 0, 0, 2, 4, 4, 9, true},
      {"{type: max_pool2d, size: 3, stride: 2}", 3, 3, 2, 2, 0, 0, 2, 18, 5, 37, true},
      {"{type: max_pool2d, size: 3, stride: 2, padding: 1}", 3, 3, 2, 2, 1, 1, 3, 3, 6, 5, false},
      {"{type: max_pool2d, size: [2, 3], stride: 1}", 2, 3, 1, 1, 0, 0, 5, 3, 6, 5, false},
      {"{type: avg_pool2d}", 2, 2, 2, 2, 0, 0, 3, 2, 6, 5, false},
      {"{type: avg_pool2d, size: 3, stride: 2, padding: 1}", 3, 3, 2, 2, 1, 1, 3, 3, 6, 5, false},
  };
  for (const auto& k : cases) {
    BOOST_TEST_CONTEXT(k.spec << " on " << k.h << " x " << k.w << (k.ties ? " with ties" : "")) {
      const bool is_max = std::string(k.spec).find("max") != std::string::npos;
      const std::int64_t h = k.h, w = k.w;
      auto layer = built(k.spec, Shape{c, h, w});
      std::vector<float> values = randoms(n * c * h * w, 21);
      if (k.ties) {
        for (auto& v : values) v = std::max(0.0f, std::round(v * 2.0f) / 2.0f);
      }
      const Tensor x = tensor(Shape{n, c, h, w}, values);
      const std::vector<float> r = randoms(n * c * k.oh * k.ow, 22);
      const Run got = run(*layer, x, r, Mode::Eval);
      BOOST_TEST((got.y.shape() == Shape{n, c, k.oh, k.ow}));
      std::vector<double> y(static_cast<std::size_t>(n * c * k.oh * k.ow)), dx(static_cast<std::size_t>(x.size()));
      for (std::int64_t p = 0; p < n * c; ++p) {
        for (std::int64_t oy = 0; oy < k.oh; ++oy) {
          for (std::int64_t ox = 0; ox < k.ow; ++ox) {
            const std::int64_t o = (p * k.oh + oy) * k.ow + ox;
            double best = -1e30, sum = 0;
            std::int64_t at = -1;
            for (std::int64_t i = 0; i < k.kh; ++i) {
              for (std::int64_t j = 0; j < k.kw; ++j) {
                const std::int64_t iy = oy * k.sy - k.ph + i, ix = ox * k.sx - k.pw + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const std::int64_t idx = (p * h + iy) * w + ix;
                sum += x[idx];
                if (x[idx] > best) {
                  best = x[idx];
                  at = idx;
                }
              }
            }
            const double g = r[static_cast<std::size_t>(o)];
            if (is_max) {
              y[static_cast<std::size_t>(o)] = best;
              dx[static_cast<std::size_t>(at)] += g;
            } else {
              const double area = static_cast<double>(k.kh * k.kw);
              y[static_cast<std::size_t>(o)] = sum / area;
              for (std::int64_t i = 0; i < k.kh; ++i) {
                for (std::int64_t j = 0; j < k.kw; ++j) {
                  const std::int64_t iy = oy * k.sy - k.ph + i, ix = ox * k.sx - k.pw + j;
                  if (iy >= 0 && iy < h && ix >= 0 && ix < w) dx[static_cast<std::size_t>((p * h + iy) * w + ix)] += g / area;
                }
              }
            }
          }
        }
      }
      BOOST_TEST(max_diff(got.y, y) < 1e-6);
      BOOST_TEST(max_diff(got.dx, dx) < 1e-6);
    }
  }
  const std::int64_t h = 6, w = 5;
  auto gap = built("{type: global_avg_pool}", Shape{c, h, w});
  const Tensor x = tensor(Shape{n, c, h, w}, randoms(n * c * h * w, 23));
  const std::vector<float> r = randoms(n * c, 24);
  const Run got = run(*gap, x, r);
  BOOST_TEST(got.y.shape().str() == "(2, 3)");
  std::vector<double> y(static_cast<std::size_t>(n * c)), dx(static_cast<std::size_t>(x.size()));
  for (std::int64_t p = 0; p < n * c; ++p) {
    for (std::int64_t i = 0; i < h * w; ++i) {
      y[static_cast<std::size_t>(p)] += x[p * h * w + i] / static_cast<double>(h * w);
      dx[static_cast<std::size_t>(p * h * w + i)] = r[static_cast<std::size_t>(p)] / static_cast<double>(h * w);
    }
  }
  BOOST_TEST(max_diff(got.y, y) < 1e-6);
  BOOST_TEST(max_diff(got.dx, dx) < 1e-6);
}

BOOST_AUTO_TEST_CASE(batchnorm_on_images_normalizes_each_channel_over_batch_height_and_width) {
  const std::int64_t n = 3, c = 2, h = 3, w = 4, m = n * h * w;
  auto layer = built("{type: batchnorm, eps: 1.0e-5, momentum: 0.9}", Shape{c, h, w});
  BOOST_TEST(layer->params()[0].value.shape().str() == "(2)");
  BOOST_TEST(layer->state()[0].value.shape().str() == "(2)");
  layer->params()[0].value[0] = 1.5f;  // gamma
  layer->params()[1].value[1] = -0.5f;  // beta
  std::vector<float> xs = randoms(n * c * h * w, 31);
  for (std::int64_t i = 0; i < n * c * h * w; ++i) xs[static_cast<std::size_t>(i)] += 3.0f;  // away from 0: a real mean
  const Tensor x = tensor(Shape{n, c, h, w}, xs);
  const std::vector<float> r = randoms(n * c * h * w, 32);
  const Run got = run(*layer, x, r);
  auto at = [&](std::int64_t s, std::int64_t ch, std::int64_t i) { return (s * c + ch) * h * w + i; };
  std::vector<double> y(static_cast<std::size_t>(x.size())), dx(static_cast<std::size_t>(x.size()));
  for (std::int64_t ch = 0; ch < c; ++ch) {
    double mean = 0, var = 0;
    for (std::int64_t s = 0; s < n; ++s)
      for (std::int64_t i = 0; i < h * w; ++i) mean += x[at(s, ch, i)] / static_cast<double>(m);
    for (std::int64_t s = 0; s < n; ++s)
      for (std::int64_t i = 0; i < h * w; ++i) var += std::pow(x[at(s, ch, i)] - mean, 2) / static_cast<double>(m);
    const double inv = 1 / std::sqrt(var + 1e-5), gamma = layer->params()[0].value[ch], beta = layer->params()[1].value[ch];
    double sum_g = 0, sum_gx = 0;
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t i = 0; i < h * w; ++i) {
        const double xh = (x[at(s, ch, i)] - mean) * inv;
        y[static_cast<std::size_t>(at(s, ch, i))] = gamma * xh + beta;
        sum_g += r[static_cast<std::size_t>(at(s, ch, i))];
        sum_gx += r[static_cast<std::size_t>(at(s, ch, i))] * xh;
      }
    }
    BOOST_TEST(std::fabs(got.grads[0][ch] - sum_gx) < 1e-4);  // dgamma
    BOOST_TEST(std::fabs(got.grads[1][ch] - sum_g) < 1e-4);   // dbeta
    BOOST_TEST(std::fabs(layer->state()[0].value[ch] - 0.1 * mean) < 1e-5);  // running mean from 0
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t i = 0; i < h * w; ++i) {
        const double xh = (x[at(s, ch, i)] - mean) * inv;
        dx[static_cast<std::size_t>(at(s, ch, i))] =
            gamma * inv / static_cast<double>(m) * (static_cast<double>(m) * r[static_cast<std::size_t>(at(s, ch, i))] - sum_g - xh * sum_gx);
      }
    }
  }
  BOOST_TEST(max_diff(got.y, y) < 1e-4);
  BOOST_TEST(max_diff(got.dx, dx) < 1e-4);
}

BOOST_AUTO_TEST_CASE(spatial_layers_refuse_flat_input_when_built) {
  for (const char* spec : {"{type: conv2d, filters: 2}", "{type: max_pool2d}", "{type: avg_pool2d}", "{type: global_avg_pool}"}) {
    auto layer = builtin_registry().create<Layer>(Config::parse(spec));
    Rng rng(1);
    BuildContext bctx{&rng, "layers.0"};
    try {
      layer->build(Shape{784}, bctx);
      BOOST_FAIL(spec << " took a flat input");
    } catch (const InputError& e) {
      BOOST_TEST(std::string(e.what()).find("needs samples of (channels, height, width), but its input is (784)") !=
                     std::string::npos,
                 e.what());
    }
  }
  auto big = builtin_registry().create<Layer>(Config::parse("{type: conv2d, filters: 2, kernel: 5}"));
  Rng rng(1);
  BuildContext bctx{&rng, "layers.0"};
  BOOST_CHECK_THROW(big->build(Shape{1, 3, 3}, bctx), InputError);
}
