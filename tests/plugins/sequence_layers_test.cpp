// The layers of sequence models against float64 loop references written from the papers'
// formulas: layernorm (Ba et al. 2016) over the last axis of (T, D) samples, forward and
// backward with non-trivial gamma and beta; gelu (Hendrycks & Gimpel 2016) exact and tanh forms
// with their derivatives; the sinusoidal position code (Vaswani et al. 2017, 3.5) and the learned
// one; sequence_pool's four modes.
#define BOOST_TEST_MODULE sequence_layers
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/gradcheck.hpp>
#include <lamina/layer.hpp>
#include <lamina/merge.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Layer> make(const std::string& spec, const Shape& sample) {
  auto layer = builtin_registry().create<Layer>(Config::parse(spec));
  Rng rng(1);
  BuildContext b{&rng, "layers.0"};
  layer->build(sample, b);
  return layer;
}

Tensor random(const Shape& shape, std::uint64_t seed, float scale = 1.0f) {
  Tensor t(shape);
  Rng rng(seed);
  for (auto& v : t.values()) v = rng.normal(0.0f, scale);
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(layernorm_equals_the_float64_reference_on_sequences) {
  const std::int64_t n = 3, t = 4, d = 6;
  auto layer = make("{type: layernorm, eps: 1.0e-3}", Shape{t, d});
  auto params = layer->params();
  BOOST_TEST_REQUIRE(params.size() == 2u);
  BOOST_TEST((params[0].value.shape() == Shape{d}));
  // gamma and beta away from 1 and 0, so a swapped or missing term shows.
  for (std::int64_t j = 0; j < d; ++j) {
    params[0].value[j] = 0.5f + 0.25f * static_cast<float>(j);
    params[1].value[j] = -0.3f + 0.1f * static_cast<float>(j);
  }
  const Tensor x = random(Shape{n, t, d}, 7, 2.0f), dy = random(Shape{n, t, d}, 8);
  Tensor y, dx;
  Rng rng(1);
  Context ctx{Mode::Train, &rng, true};
  layer->forward(x, y, ctx);
  layer->backward(dy, dx, ctx);
  BOOST_TEST_REQUIRE((y.shape() == x.shape()));
  BOOST_TEST_REQUIRE((dx.shape() == x.shape()));

  std::vector<double> dgamma(d, 0.0), dbeta(d, 0.0);
  double worst_y = 0, worst_dx = 0;
  for (std::int64_t r = 0; r < n * t; ++r) {
    const float* xr = x.data() + r * d;
    const float* gr = dy.data() + r * d;
    double mu = 0, var = 0;
    for (std::int64_t j = 0; j < d; ++j) mu += xr[j];
    mu /= d;
    for (std::int64_t j = 0; j < d; ++j) var += (xr[j] - mu) * (xr[j] - mu);
    var /= d;
    const double inv = 1.0 / std::sqrt(var + 1e-3);
    // dx_j = inv * (g_j - mean(g) - xhat_j * mean(g * xhat)), g = dy * gamma
    double mean_g = 0, mean_gx = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      const double xhat = (xr[j] - mu) * inv, g = gr[j] * static_cast<double>(params[0].value[j]);
      mean_g += g / d;
      mean_gx += g * xhat / d;
      dgamma[j] += gr[j] * xhat;
      dbeta[j] += gr[j];
      const double want = xhat * params[0].value[j] + params[1].value[j];
      worst_y = std::max(worst_y, std::abs(want - y[r * d + j]));
    }
    for (std::int64_t j = 0; j < d; ++j) {
      const double xhat = (xr[j] - mu) * inv, g = gr[j] * static_cast<double>(params[0].value[j]);
      worst_dx = std::max(worst_dx, std::abs(inv * (g - mean_g - xhat * mean_gx) - dx[r * d + j]));
    }
  }
  BOOST_TEST(worst_y < 1e-5, "max |y - reference| " << worst_y);
  BOOST_TEST(worst_dx < 1e-5, "max |dx - reference| " << worst_dx);
  for (std::int64_t j = 0; j < d; ++j) {
    BOOST_TEST(std::abs(dgamma[j] - params[0].grad[j]) < 1e-4, "dgamma " << j);
    BOOST_TEST(std::abs(dbeta[j] - params[1].grad[j]) < 1e-4, "dbeta " << j);
  }
  // Each row is normalized by itself: changing one position leaves the others' outputs alone.
  Tensor x2 = x.clone(), y2;
  for (std::int64_t j = 0; j < d; ++j) x2[j] += 5.0f;  // sample 0, position 0
  layer->forward(x2, y2, ctx);
  BOOST_TEST(std::equal(y.data() + d, y.data() + y.size(), y2.data() + d));
  for (const auto& r : check_layer_gradients(*builtin_registry().create<Layer>(Config::parse("layernorm")),
                                             Shape{t, d}, {})) {
    BOOST_TEST(r.ok, r.tensor << " max relative error " << r.max_error);
  }
}

BOOST_AUTO_TEST_CASE(gelu_equals_the_float64_reference_in_both_forms) {
  const Tensor x = random(Shape{5, 40}, 3, 2.5f), dy = random(Shape{5, 40}, 4);
  for (const bool approx : {false, true}) {
    auto layer = make(approx ? "{type: gelu, approximate: tanh}" : "gelu", Shape{40});
    Tensor y, dx;
    Rng rng(1);
    Context ctx{Mode::Train, &rng, true};
    layer->forward(x, y, ctx);
    layer->backward(dy, dx, ctx);
    double worst_y = 0, worst_dx = 0;
    for (std::int64_t i = 0; i < x.size(); ++i) {
      const double v = x[i];
      double want, slope;
      if (approx) {
        const double c = std::sqrt(2.0 / M_PI), u = c * (v + 0.044715 * v * v * v), th = std::tanh(u);
        want = 0.5 * v * (1 + th);
        slope = 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * c * (1 + 3 * 0.044715 * v * v);
      } else {
        want = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
        slope = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
      }
      worst_y = std::max(worst_y, std::abs(want - y[i]));
      worst_dx = std::max(worst_dx, std::abs(slope * dy[i] - dx[i]));
    }
    BOOST_TEST(worst_y < 2e-6, (approx ? "tanh" : "exact") << " max |y - reference| " << worst_y);
    BOOST_TEST(worst_dx < 2e-6, (approx ? "tanh" : "exact") << " max |dx - reference| " << worst_dx);
  }
  // The two forms differ (by 9.8e-5 at x = 2), so the key reaches the layer.
  auto exact = make("gelu", Shape{1}), tanh = make("{type: gelu, approximate: tanh}", Shape{1});
  Tensor one(Shape{1, 1}), a, b;
  one[0] = 2.0f;
  Rng rng(1);
  Context ctx{Mode::Eval, &rng, true};
  exact->forward(one, a, ctx);
  tanh->forward(one, b, ctx);
  BOOST_TEST(std::abs(a[0] - b[0]) > 5e-5);
}

BOOST_AUTO_TEST_CASE(position_codes_equal_their_definitions) {
  const std::int64_t n = 2, t = 5, d = 6;
  const Tensor x = random(Shape{n, t, d}, 11), dy = random(Shape{n, t, d}, 12);
  Rng rng(1);
  Context ctx{Mode::Train, &rng, true};
  // Sinusoidal: PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(the same).
  auto sin = make("sinusoidal_positions", Shape{t, d});
  Tensor y, dx;
  sin->forward(x, y, ctx);
  double worst = 0;
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t p = 0; p < t; ++p) {
      for (std::int64_t j = 0; j < d; ++j) {
        const double angle = p / std::pow(10000.0, (j - j % 2) / static_cast<double>(d));
        const double want = x[(s * t + p) * d + j] + (j % 2 == 0 ? std::sin(angle) : std::cos(angle));
        worst = std::max(worst, std::abs(want - y[(s * t + p) * d + j]));
      }
    }
  }
  BOOST_TEST(worst < 1e-6, "max |y - reference| " << worst);
  BOOST_TEST(sin->params().empty());
  // Learned: y = x + P, dP = the batch's sum of dy, dx = dy.
  auto learned = make("positional_embedding", Shape{t, d});
  BOOST_TEST_REQUIRE(learned->params().size() == 1u);
  const Tensor& P = learned->params()[0].value;
  learned->forward(x, y, ctx);
  learned->backward(dy, dx, ctx);
  double worst_y = 0, worst_dp = 0;
  for (std::int64_t i = 0; i < t * d; ++i) {
    double dp = 0;
    for (std::int64_t s = 0; s < n; ++s) {
      worst_y = std::max(worst_y, std::abs(static_cast<double>(x[s * t * d + i]) + P[i] - y[s * t * d + i]));
      dp += dy[s * t * d + i];
    }
    worst_dp = std::max(worst_dp, std::abs(dp - learned->params()[0].grad[i]));
  }
  BOOST_TEST(worst_y < 1e-6);
  BOOST_TEST(worst_dp < 1e-5);
  BOOST_TEST(std::equal(dx.data(), dx.data() + dx.size(), dy.data()));
  // P starts as a normal of std 0.02 (GPT-2's), not zeros.
  double sq = 0;
  for (float v : P.values()) sq += v * v;
  BOOST_TEST(std::sqrt(sq / P.size()) > 0.005);
  BOOST_TEST(std::sqrt(sq / P.size()) < 0.05);
}

BOOST_AUTO_TEST_CASE(sequence_pool_equals_loops_over_the_steps) {
  const std::int64_t n = 3, t = 4, d = 5;
  const Tensor x = random(Shape{n, t, d}, 21), dy = random(Shape{n, d}, 22);
  for (const std::string mode : {"mean", "max", "first", "last"}) {
    auto layer = make("{type: sequence_pool, mode: " + mode + "}", Shape{t, d});
    Tensor y, dx;
    Rng rng(1);
    Context ctx{Mode::Train, &rng, true};
    layer->forward(x, y, ctx);
    layer->backward(dy, dx, ctx);
    BOOST_TEST_REQUIRE((y.shape() == Shape{n, d}));
    BOOST_TEST_REQUIRE((dx.shape() == x.shape()));
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t j = 0; j < d; ++j) {
        auto at = [&](std::int64_t p) { return static_cast<double>(x[(s * t + p) * d + j]); };
        double want = 0;
        std::int64_t chosen = -1;  // the step the gradient goes to (-1: all, by 1/T)
        if (mode == "mean") {
          for (std::int64_t p = 0; p < t; ++p) want += at(p) / t;
        } else if (mode == "max") {
          chosen = 0;
          for (std::int64_t p = 1; p < t; ++p) chosen = at(p) > at(chosen) ? p : chosen;
          want = at(chosen);
        } else {
          chosen = mode == "first" ? 0 : t - 1;
          want = at(chosen);
        }
        BOOST_TEST(std::abs(want - y[s * d + j]) < 1e-6, mode << " y " << s << "," << j);
        for (std::int64_t p = 0; p < t; ++p) {
          const double g = chosen < 0 ? dy[s * d + j] / static_cast<double>(t) : (p == chosen ? dy[s * d + j] : 0.0);
          BOOST_TEST(std::abs(g - dx[(s * t + p) * d + j]) < 1e-6, mode << " dx " << s << "," << p << "," << j);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(embedding_looks_up_rows_and_adds_their_gradients) {
  const std::int64_t t = 4, v = 5, d = 3;
  auto layer = make("{type: embedding, vocabulary: 5, dim: 3}", Shape{t});
  BOOST_TEST_REQUIRE(layer->params().size() == 1u);
  Tensor& W = layer->params()[0].value;
  BOOST_TEST((W.shape() == Shape{v, d}));
  // Two samples; id 2 three times, id 4 never.
  const std::vector<std::int32_t> ids{2, 0, 2, 1, 3, 2, 0, 1};
  Tensor x(Shape{2, t});
  for (std::size_t i = 0; i < ids.size(); ++i) x[static_cast<std::int64_t>(i)] = static_cast<float>(ids[i]);
  const Tensor dy = random(Shape{2, t, d}, 31);
  Rng rng(1);
  Context ctx{Mode::Train, &rng, false};
  Tensor y, dx;
  layer->forward(x, y, ctx);
  layer->backward(dy, dx, ctx);
  BOOST_TEST_REQUIRE((y.shape() == Shape{2, t, d}));
  std::vector<double> dW(static_cast<std::size_t>(v * d), 0.0);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (std::int64_t j = 0; j < d; ++j) {
      BOOST_TEST(y[static_cast<std::int64_t>(i) * d + j] == W[ids[i] * d + j]);
      dW[static_cast<std::size_t>(ids[i] * d + j)] += dy[static_cast<std::int64_t>(i) * d + j];
    }
  }
  for (std::int64_t k = 0; k < v * d; ++k) {
    BOOST_TEST(std::abs(dW[static_cast<std::size_t>(k)] - layer->params()[0].grad[k]) < 1e-6, "dW " << k);
  }
  // The context's exact ids win over the input's values (which may be rounded floats).
  Tensor junk(Shape{2, t});
  junk.fill(-7.5f);
  Context with_ids{Mode::Train, &rng, false, nullptr, ids};
  Tensor y2;
  layer->forward(junk, y2, with_ids);
  BOOST_TEST(std::equal(y.data(), y.data() + y.size(), y2.data()));
  // An id outside the vocabulary, and a value that is no id, are refused with their place.
  x[5] = 5.0f;
  BOOST_CHECK_EXCEPTION(layer->forward(x, y, ctx), InputError, [](const InputError& e) {
    return std::string(e.what()).find("input 5 at sample 1, position 1 is not a token id of the vocabulary 0..4") !=
           std::string::npos;
  });
  x[5] = 1.5f;
  BOOST_CHECK_THROW(layer->forward(x, y, ctx), InputError);
  for (const auto& r : check_layer_gradients_on_ids(*make("{type: embedding, vocabulary: 5, dim: 3}", Shape{t}),
                                                    Shape{t}, 5, {})) {
    BOOST_TEST(r.ok, r.tensor << " max relative error " << r.max_error);
  }
}

namespace {

// The LSTM's forward pass and back-propagation through time in float64 loops, written from the
// formulas (PyTorch's gate order i, f, g, o), for comparison with the layer's GEMM form.
struct LstmReference {
  std::vector<double> y, dx, dW, dU, db;
};

LstmReference lstm_reference(const Tensor& x, const Tensor& dy, std::span<const Param> p, std::int64_t n,
                             std::int64_t t_len, std::int64_t d, std::int64_t h, bool sequence) {
  const std::int64_t g = 4 * h;
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  auto W = [&](std::int64_t i, std::int64_t j) { return static_cast<double>(p[0].value[i * g + j]); };
  auto U = [&](std::int64_t i, std::int64_t j) { return static_cast<double>(p[1].value[i * g + j]); };
  LstmReference r;
  r.y.assign(static_cast<std::size_t>(sequence ? n * t_len * h : n * h), 0.0);
  r.dx.assign(static_cast<std::size_t>(n * t_len * d), 0.0);
  r.dW.assign(static_cast<std::size_t>(d * g), 0.0);
  r.dU.assign(static_cast<std::size_t>(h * g), 0.0);
  r.db.assign(static_cast<std::size_t>(g), 0.0);
  for (std::int64_t s = 0; s < n; ++s) {
    // gates[t][k * h + j] after their nonlinearity; c and hs per step (index t + 1; 0 is zero)
    std::vector<std::vector<double>> gates(t_len, std::vector<double>(g)), c(t_len + 1, std::vector<double>(h, 0.0)),
        hs(t_len + 1, std::vector<double>(h, 0.0));
    for (std::int64_t t = 0; t < t_len; ++t) {
      for (std::int64_t j = 0; j < g; ++j) {
        double a = p[2].value[j];
        for (std::int64_t i = 0; i < d; ++i) a += x[(s * t_len + t) * d + i] * W(i, j);
        for (std::int64_t i = 0; i < h; ++i) a += hs[t][i] * U(i, j);
        gates[t][j] = j / h == 2 ? std::tanh(a) : sig(a);
      }
      for (std::int64_t j = 0; j < h; ++j) {
        c[t + 1][j] = gates[t][h + j] * c[t][j] + gates[t][j] * gates[t][2 * h + j];
        hs[t + 1][j] = gates[t][3 * h + j] * std::tanh(c[t + 1][j]);
        if (sequence) r.y[(s * t_len + t) * h + j] = hs[t + 1][j];
      }
    }
    if (!sequence) {
      for (std::int64_t j = 0; j < h; ++j) r.y[s * h + j] = hs[t_len][j];
    }
    std::vector<double> dh(h, 0.0), dc(h, 0.0), da(g);
    for (std::int64_t t = t_len - 1; t >= 0; --t) {
      for (std::int64_t j = 0; j < h; ++j) {
        if (sequence) dh[j] += dy[(s * t_len + t) * h + j];
        if (!sequence && t == t_len - 1) dh[j] += dy[s * h + j];
        const double i = gates[t][j], f = gates[t][h + j], gg = gates[t][2 * h + j], o = gates[t][3 * h + j];
        const double tc = std::tanh(c[t + 1][j]);
        dc[j] += dh[j] * o * (1 - tc * tc);
        da[j] = dc[j] * gg * i * (1 - i);
        da[h + j] = dc[j] * c[t][j] * f * (1 - f);
        da[2 * h + j] = dc[j] * i * (1 - gg * gg);
        da[3 * h + j] = dh[j] * tc * o * (1 - o);
        dc[j] *= f;
      }
      for (std::int64_t j = 0; j < g; ++j) {
        r.db[j] += da[j];
        for (std::int64_t i = 0; i < d; ++i) {
          r.dW[i * g + j] += x[(s * t_len + t) * d + i] * da[j];
          r.dx[(s * t_len + t) * d + i] += da[j] * W(i, j);
        }
        for (std::int64_t i = 0; i < h; ++i) r.dU[i * g + j] += hs[t][i] * da[j];
      }
      for (std::int64_t i = 0; i < h; ++i) {
        dh[i] = 0;
        for (std::int64_t j = 0; j < g; ++j) dh[i] += da[j] * U(i, j);
      }
    }
  }
  return r;
}

double worst(std::span<const double> want, std::span<const float> got) {
  double w = want.size() == got.size() ? 0.0 : 1e30;
  for (std::size_t i = 0; i < std::min(want.size(), got.size()); ++i) w = std::max(w, std::abs(want[i] - got[i]));
  return w;
}

}  // namespace

BOOST_AUTO_TEST_CASE(lstm_equals_the_float64_reference_through_time) {
  const std::int64_t n = 5, t = 6, d = 4, h = 3;
  for (const bool sequence : {false, true}) {
    auto layer = make(std::string("{type: lstm, units: 3, return: ") + (sequence ? "sequence}" : "last}"), Shape{t, d});
    auto params = layer->params();
    BOOST_TEST_REQUIRE(params.size() == 3u);
    BOOST_TEST((params[0].value.shape() == Shape{d, 4 * h}));
    BOOST_TEST((params[1].value.shape() == Shape{h, 4 * h}));
    // PyTorch's init, uniform in +-1/sqrt(H), and the forget gate's bias moved up by 1.
    for (std::int64_t j = 0; j < 4 * h; ++j) {
      const float b = params[2].value[j] - (j / h == 1 ? 1.0f : 0.0f);
      BOOST_TEST(std::abs(b) <= 1.0f / std::sqrt(3.0f), "bias " << j);
    }
    const Tensor x = random(Shape{n, t, d}, 21, 1.5f);
    const Tensor dy = random(sequence ? Shape{n, t, h} : Shape{n, h}, 22);
    Tensor y, dx;
    Rng rng(1);
    Context ctx{Mode::Train, &rng, true};
    layer->forward(x, y, ctx);
    layer->backward(dy, dx, ctx);
    BOOST_TEST_REQUIRE((y.shape() == (sequence ? Shape{n, t, h} : Shape{n, h})));
    BOOST_TEST_REQUIRE((dx.shape() == x.shape()));
    const auto want = lstm_reference(x, dy, params, n, t, d, h, sequence);
    const char* mode = sequence ? "sequence" : "last";
    BOOST_TEST(worst(want.y, y.values()) < 1e-5, mode << " max |y - reference| " << worst(want.y, y.values()));
    BOOST_TEST(worst(want.dx, dx.values()) < 1e-5, mode << " max |dx - reference| " << worst(want.dx, dx.values()));
    BOOST_TEST(worst(want.dW, params[0].grad.values()) < 1e-5, mode << " dW " << worst(want.dW, params[0].grad.values()));
    BOOST_TEST(worst(want.dU, params[1].grad.values()) < 1e-5, mode << " dU " << worst(want.dU, params[1].grad.values()));
    BOOST_TEST(worst(want.db, params[2].grad.values()) < 1e-5, mode << " db " << worst(want.db, params[2].grad.values()));
    // A later step does not reach back: the first step's output ignores x at the last step.
    if (sequence) {
      Tensor x2 = x.clone(), y2;
      for (std::int64_t s = 0; s < n; ++s) x2[(s * t + t - 1) * d] += 3.0f;
      layer->forward(x2, y2, ctx);
      bool first_same = true, last_changed = false;
      for (std::int64_t s = 0; s < n; ++s) {
        for (std::int64_t j = 0; j < h; ++j) {
          first_same = first_same && y2[(s * t) * h + j] == y[(s * t) * h + j];
          last_changed = last_changed || y2[(s * t + t - 1) * h + j] != y[(s * t + t - 1) * h + j];
        }
      }
      BOOST_TEST(first_same);
      BOOST_TEST(last_changed);
    }
    for (const auto& r : check_layer_gradients(*builtin_registry().create<Layer>(Config::parse(
                                                   std::string("{type: lstm, units: 2, return: ") + mode + "}")),
                                               Shape{3, 2}, {})) {
      BOOST_TEST(r.ok, mode << " " << r.tensor << " max relative error " << r.max_error);
    }
  }
}

namespace {

// Multi-head attention in float64 loops (Vaswani et al. 2017, 3.2.2): forward and backward for
// queries xq (n, tq, d) over memory xkv (n, tk, d); params Wq bq Wk bk Wv bv Wo bo.
struct AttentionReference {
  std::vector<double> y, dxq, dxkv;
  std::vector<std::vector<double>> grads;  // one per param
};

AttentionReference attention_reference(const Tensor& xq, const Tensor& xkv, const Tensor& dy, std::span<const Param> p,
                                       std::int64_t n, std::int64_t tq, std::int64_t tk, std::int64_t d,
                                       std::int64_t heads, bool causal) {
  const std::int64_t dh = d / heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  using Mat = std::vector<std::vector<double>>;
  auto mat = [](std::int64_t r, std::int64_t c) { return Mat(r, std::vector<double>(c, 0.0)); };
  auto w = [&](int k, std::int64_t i, std::int64_t j) { return static_cast<double>(p[k].value[i * d + j]); };
  AttentionReference r;
  r.y.assign(static_cast<std::size_t>(n * tq * d), 0.0);
  r.dxq.assign(static_cast<std::size_t>(n * tq * d), 0.0);
  r.dxkv.assign(static_cast<std::size_t>(n * tk * d), 0.0);
  for (const auto& q : p) r.grads.emplace_back(static_cast<std::size_t>(q.value.size()), 0.0);
  for (std::int64_t s = 0; s < n; ++s) {
    auto proj = [&](const Tensor& x, std::int64_t steps, int k) {
      Mat out = mat(steps, d);
      for (std::int64_t t = 0; t < steps; ++t) {
        for (std::int64_t j = 0; j < d; ++j) {
          double v = p[k + 1].value[j];
          for (std::int64_t i = 0; i < d; ++i) v += x[(s * steps + t) * d + i] * w(k, i, j);
          out[t][j] = v;
        }
      }
      return out;
    };
    const Mat Q = proj(xq, tq, 0), K = proj(xkv, tk, 2), V = proj(xkv, tk, 4);
    Mat O = mat(tq, d), dO = mat(tq, d), dQ = mat(tq, d), dK = mat(tk, d), dV = mat(tk, d);
    std::vector<Mat> P(heads, mat(tq, tk));
    for (std::int64_t h = 0; h < heads; ++h) {
      for (std::int64_t i = 0; i < tq; ++i) {
        double top = -1e300, sum = 0;
        std::vector<double> e(tk, 0.0);
        for (std::int64_t j = 0; j < tk; ++j) {
          if (causal && j > i) continue;
          for (std::int64_t c = 0; c < dh; ++c) e[j] += Q[i][h * dh + c] * K[j][h * dh + c] * scale;
          top = std::max(top, e[j]);
        }
        for (std::int64_t j = 0; j < tk; ++j) {
          if (causal && j > i) continue;
          sum += e[j] = std::exp(e[j] - top);
        }
        for (std::int64_t j = 0; j < tk; ++j) P[h][i][j] = causal && j > i ? 0.0 : e[j] / sum;
        for (std::int64_t c = 0; c < dh; ++c) {
          for (std::int64_t j = 0; j < tk; ++j) O[i][h * dh + c] += P[h][i][j] * V[j][h * dh + c];
        }
      }
    }
    for (std::int64_t t = 0; t < tq; ++t) {
      for (std::int64_t j = 0; j < d; ++j) {
        double v = p[7].value[j];
        const double g = dy[(s * tq + t) * d + j];
        for (std::int64_t i = 0; i < d; ++i) {
          v += O[t][i] * w(6, i, j);
          r.grads[6][i * d + j] += O[t][i] * g;
          dO[t][i] += g * w(6, i, j);
        }
        r.grads[7][j] += g;
        r.y[(s * tq + t) * d + j] = v;
      }
    }
    for (std::int64_t h = 0; h < heads; ++h) {
      for (std::int64_t i = 0; i < tq; ++i) {
        std::vector<double> dP(tk, 0.0);
        double dot = 0;
        for (std::int64_t j = 0; j < tk; ++j) {
          for (std::int64_t c = 0; c < dh; ++c) {
            dP[j] += dO[i][h * dh + c] * V[j][h * dh + c];
            dV[j][h * dh + c] += P[h][i][j] * dO[i][h * dh + c];
          }
          dot += dP[j] * P[h][i][j];
        }
        for (std::int64_t j = 0; j < tk; ++j) {
          const double dS = P[h][i][j] * (dP[j] - dot) * scale;
          for (std::int64_t c = 0; c < dh; ++c) {
            dQ[i][h * dh + c] += dS * K[j][h * dh + c];
            dK[j][h * dh + c] += dS * Q[i][h * dh + c];
          }
        }
      }
    }
    auto back = [&](const Tensor& x, std::int64_t steps, const Mat& dz, int k, std::vector<double>& dx) {
      for (std::int64_t t = 0; t < steps; ++t) {
        for (std::int64_t j = 0; j < d; ++j) {
          r.grads[k + 1][j] += dz[t][j];
          for (std::int64_t i = 0; i < d; ++i) {
            r.grads[k][i * d + j] += x[(s * steps + t) * d + i] * dz[t][j];
            dx[(s * steps + t) * d + i] += dz[t][j] * w(k, i, j);
          }
        }
      }
    };
    back(xq, tq, dQ, 0, r.dxq);
    back(xkv, tk, dK, 2, r.dxkv);
    back(xkv, tk, dV, 4, r.dxkv);
  }
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(attention_equals_the_float64_reference) {
  const std::int64_t n = 3, t = 5, d = 6, heads = 2;
  Rng rng(1);
  Context ctx{Mode::Train, &rng, true};
  for (const bool causal : {false, true}) {
    auto layer = make(std::string("{type: multi_head_attention, heads: 2, causal: ") + (causal ? "true}" : "false}"),
                      Shape{t, d});
    auto params = layer->params();
    BOOST_TEST_REQUIRE(params.size() == 8u);
    for (std::size_t k = 1; k < 8; k += 2) {  // biases away from 0, so a missing term shows
      for (std::int64_t j = 0; j < d; ++j) params[k].value[j] = 0.1f * static_cast<float>(j) - 0.2f;
    }
    const Tensor x = random(Shape{n, t, d}, 31), dy = random(Shape{n, t, d}, 32);
    Tensor y, dx;
    layer->forward(x, y, ctx);
    layer->backward(dy, dx, ctx);
    const auto want = attention_reference(x, x, dy, params, n, t, t, d, heads, causal);
    std::vector<double> dx_want = want.dxq;
    for (std::size_t i = 0; i < dx_want.size(); ++i) dx_want[i] += want.dxkv[i];  // self: both paths
    const char* mode = causal ? "causal" : "full";
    BOOST_TEST(worst(want.y, y.values()) < 1e-5, mode << " max |y - reference| " << worst(want.y, y.values()));
    BOOST_TEST(worst(dx_want, dx.values()) < 1e-5, mode << " max |dx - reference| " << worst(dx_want, dx.values()));
    for (std::size_t k = 0; k < 8; ++k) {
      BOOST_TEST(worst(want.grads[k], params[k].grad.values()) < 1e-5,
                 mode << " " << params[k].name << " " << worst(want.grads[k], params[k].grad.values()));
    }
    // Causal: step 0's output does not move when the last step's input does; without the mask it does.
    Tensor x2 = x.clone(), y2;
    for (std::int64_t s = 0; s < n; ++s) x2[(s * t + t - 1) * d] += 3.0f;
    layer->forward(x2, y2, ctx);
    BOOST_TEST(std::equal(y.data(), y.data() + d, y2.data()) == causal, mode);
  }
  // Cross: 3 query steps over a memory of 4, two inputs with their own gradients.
  auto cross = builtin_registry().create<Merge>(Config::parse("{type: cross_attention, heads: 3}"));
  BuildContext b{&rng, "layers.2"};
  const std::vector<Shape> shapes{Shape{3, d}, Shape{4, d}};
  BOOST_TEST((cross->build(shapes, b) == Shape{3, d}));
  const Tensor xq = random(Shape{n, 3, d}, 33), xkv = random(Shape{n, 4, d}, 34), dy = random(Shape{n, 3, d}, 35);
  Tensor y, dxq, dxkv;
  const Tensor* xs[] = {&xq, &xkv};
  Tensor* dxs[] = {&dxq, &dxkv};
  cross->forward(xs, y, ctx);
  cross->backward(dy, dxs, ctx);
  const auto want = attention_reference(xq, xkv, dy, cross->params(), n, 3, 4, d, 3, false);
  BOOST_TEST(worst(want.y, y.values()) < 1e-5, "cross y " << worst(want.y, y.values()));
  BOOST_TEST(worst(want.dxq, dxq.values()) < 1e-5, "cross dxq " << worst(want.dxq, dxq.values()));
  BOOST_TEST(worst(want.dxkv, dxkv.values()) < 1e-5, "cross dxkv " << worst(want.dxkv, dxkv.values()));
  for (std::size_t k = 0; k < 8; ++k) {
    BOOST_TEST(worst(want.grads[k], cross->params()[k].grad.values()) < 1e-5, "cross " << cross->params()[k].name);
  }
  // Dropout on the weights: training draws a mask (outputs change), eval uses none; the mask is
  // replayed by the gradient check from a copy of the stream.
  auto dropped = make("{type: multi_head_attention, heads: 2, dropout: 0.5}", Shape{t, d});
  const Tensor x = random(Shape{n, t, d}, 36);
  Tensor train_y, eval_y, again;
  dropped->forward(x, train_y, ctx);
  Context eval{Mode::Eval, &rng, true};
  dropped->forward(x, eval_y, eval);
  dropped->forward(x, again, eval);
  BOOST_TEST(!std::equal(train_y.data(), train_y.data() + train_y.size(), eval_y.data()));
  BOOST_TEST(std::equal(eval_y.data(), eval_y.data() + eval_y.size(), again.data()));
  for (const auto& r : check_layer_gradients(*builtin_registry().create<Layer>(Config::parse(
                                                 "{type: multi_head_attention, heads: 2, causal: true, dropout: 0.3}")),
                                             Shape{3, 4}, {})) {
    BOOST_TEST(r.ok, "dropout " << r.tensor << " max relative error " << r.max_error);
  }
}

BOOST_AUTO_TEST_CASE(affine_per_position_is_the_affine_layer_on_every_row) {
  const std::int64_t n = 3, t = 4, d = 5, units = 6;
  auto seq = make("{type: affine, units: 6, per_position: true}", Shape{t, d});
  auto flat = make("{type: affine, units: 6}", Shape{d});
  BOOST_TEST_REQUIRE(seq->params()[0].value.size() == d * units);  // W is (D, units), not (T D, units)
  for (std::size_t k = 0; k < 2; ++k) flat->params()[k].value.copy_from(seq->params()[k].value);
  for (std::int64_t j = 0; j < units; ++j) seq->params()[1].value[j] = flat->params()[1].value[j] = 0.1f * j;
  const Tensor x = random(Shape{n, t, d}, 41), dy = random(Shape{n, t, units}, 42);
  Tensor rows(Shape{n * t, d}), drows(Shape{n * t, units}), y, dx, y_flat, dx_flat;
  std::copy(x.data(), x.data() + x.size(), rows.data());
  std::copy(dy.data(), dy.data() + dy.size(), drows.data());
  Rng rng(1);
  Context ctx{Mode::Train, &rng, true};
  seq->forward(x, y, ctx);
  seq->backward(dy, dx, ctx);
  flat->forward(rows, y_flat, ctx);  // the N T rows as a batch of (D) samples
  flat->backward(drows, dx_flat, ctx);
  BOOST_TEST((y.shape() == Shape{n, t, units}));
  BOOST_TEST((dx.shape() == x.shape()));
  for (std::int64_t i = 0; i < y.size(); ++i) BOOST_TEST(std::abs(y[i] - y_flat[i]) < 1e-6f);
  for (std::int64_t i = 0; i < dx.size(); ++i) BOOST_TEST(std::abs(dx[i] - dx_flat[i]) < 1e-6f);
  for (std::size_t k = 0; k < 2; ++k) {
    for (std::int64_t i = 0; i < seq->params()[k].grad.size(); ++i) {
      BOOST_TEST(std::abs(seq->params()[k].grad[i] - flat->params()[k].grad[i]) < 1e-5f);
    }
  }
  for (const auto& r : check_layer_gradients(*builtin_registry().create<Layer>(
                                                 Config::parse("{type: affine, units: 2, per_position: true}")),
                                             Shape{3, 4}, {})) {
    BOOST_TEST(r.ok, r.tensor << " max relative error " << r.max_error);
  }
}

BOOST_AUTO_TEST_CASE(gru_equals_the_float64_reference_through_time) {
  const std::int64_t n = 4, t = 5, d = 3, h = 4, g = 3 * h;
  for (const bool sequence : {false, true}) {
    auto layer = make(std::string("{type: gru, units: 4, return: ") + (sequence ? "sequence}" : "last}"), Shape{t, d});
    auto p = layer->params();
    BOOST_TEST_REQUIRE(p.size() == 4u);
    const Tensor x = random(Shape{n, t, d}, 51, 1.5f), dy = random(sequence ? Shape{n, t, h} : Shape{n, h}, 52);
    Tensor y, dx;
    Rng rng(1);
    Context ctx{Mode::Train, &rng, true};
    layer->forward(x, y, ctx);
    layer->backward(dy, dx, ctx);
    auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    auto at = [&](int k, std::int64_t i, std::int64_t j) { return static_cast<double>(p[k].value[i * g + j]); };
    std::vector<double> want_y(static_cast<std::size_t>(y.size()), 0.0), want_dx(static_cast<std::size_t>(x.size()), 0.0);
    std::vector<std::vector<double>> grads;
    for (const auto& q : p) grads.emplace_back(static_cast<std::size_t>(q.value.size()), 0.0);
    for (std::int64_t s = 0; s < n; ++s) {
      std::vector<std::vector<double>> hs(t + 1, std::vector<double>(h, 0.0)), r(t, std::vector<double>(h)),
          z(t, std::vector<double>(h)), nn(t, std::vector<double>(h)), ahn(t, std::vector<double>(h));
      for (std::int64_t k = 0; k < t; ++k) {
        for (std::int64_t j = 0; j < h; ++j) {
          double ax[3], ah[3];
          for (int gate = 0; gate < 3; ++gate) {
            const std::int64_t c = gate * h + j;
            ax[gate] = p[2].value[c];
            ah[gate] = p[3].value[c];
            for (std::int64_t i = 0; i < d; ++i) ax[gate] += x[(s * t + k) * d + i] * at(0, i, c);
            for (std::int64_t i = 0; i < h; ++i) ah[gate] += hs[k][i] * at(1, i, c);
          }
          r[k][j] = sig(ax[0] + ah[0]);
          z[k][j] = sig(ax[1] + ah[1]);
          ahn[k][j] = ah[2];
          nn[k][j] = std::tanh(ax[2] + r[k][j] * ah[2]);
          hs[k + 1][j] = (1 - z[k][j]) * nn[k][j] + z[k][j] * hs[k][j];
          if (sequence) want_y[(s * t + k) * h + j] = hs[k + 1][j];
        }
      }
      if (!sequence) {
        for (std::int64_t j = 0; j < h; ++j) want_y[s * h + j] = hs[t][j];
      }
      std::vector<double> dh(h, 0.0);
      for (std::int64_t k = t - 1; k >= 0; --k) {
        std::vector<double> dax(g), dah(g), next(h, 0.0);
        for (std::int64_t j = 0; j < h; ++j) {
          dh[j] += sequence ? dy[(s * t + k) * h + j] : (k == t - 1 ? dy[s * h + j] : 0.0);
          const double dan = dh[j] * (1 - z[k][j]) * (1 - nn[k][j] * nn[k][j]);
          dax[2 * h + j] = dan;
          dah[2 * h + j] = dan * r[k][j];
          dax[j] = dah[j] = dan * ahn[k][j] * r[k][j] * (1 - r[k][j]);
          dax[h + j] = dah[h + j] = dh[j] * (hs[k][j] - nn[k][j]) * z[k][j] * (1 - z[k][j]);
          next[j] = dh[j] * z[k][j];
        }
        for (std::int64_t c = 0; c < g; ++c) {
          grads[2][c] += dax[c];
          grads[3][c] += dah[c];
          for (std::int64_t i = 0; i < d; ++i) {
            grads[0][i * g + c] += x[(s * t + k) * d + i] * dax[c];
            want_dx[(s * t + k) * d + i] += dax[c] * at(0, i, c);
          }
          for (std::int64_t i = 0; i < h; ++i) {
            grads[1][i * g + c] += hs[k][i] * dah[c];
            next[i] += dah[c] * at(1, i, c);
          }
        }
        dh = next;
      }
    }
    const char* mode = sequence ? "sequence" : "last";
    BOOST_TEST(worst(want_y, y.values()) < 1e-5, mode << " y " << worst(want_y, y.values()));
    BOOST_TEST(worst(want_dx, dx.values()) < 1e-5, mode << " dx " << worst(want_dx, dx.values()));
    for (std::size_t k = 0; k < 4; ++k) {
      BOOST_TEST(worst(grads[k], p[k].grad.values()) < 1e-5, mode << " " << p[k].name << " " << worst(grads[k], p[k].grad.values()));
    }
  }
}
