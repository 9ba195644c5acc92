// The built-in augmentations on small batches, against what each one is defined to do: a flip is
// the mirror image, a crop a translation within its padding, cutout one clipped square of
// zeros, noise of its standard deviation, mixup one convex combination of two samples and their
// targets; each refuses samples it cannot take with a message naming it.
#define BOOST_TEST_MODULE augmentations
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <omp.h>
#include <lamina/augmentation.hpp>
#include <set>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

std::unique_ptr<Augmentation> make(const std::string& spec) {
  return builtin_registry().create<Augmentation>(Config::parse(spec));
}

// n images of c x h x w holding distinct values (1 + their flat index), so that every output
// value tells where it came from.
Tensor images(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  Tensor x(Shape{n, c, h, w});
  for (std::int64_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i + 1);
  return x;
}

float at(const Tensor& x, std::int64_t i, std::int64_t ch, std::int64_t y, std::int64_t xx) {
  const auto& s = x.shape();
  return x.data()[((i * s[1] + ch) * s[2] + y) * s[3] + xx];
}

AugmentTargets no_targets(std::int64_t n) { return {TargetKind::Class, n, 1, {}, {}}; }

}  // namespace

BOOST_AUTO_TEST_CASE(hflip_at_p_1_mirrors_every_row_and_at_p_0_changes_nothing) {
  const Tensor x = images(3, 2, 4, 5);
  Tensor y = x.clone();
  auto t = no_targets(3);
  Rng rng(1);
  make("{type: hflip, p: 1}")->apply(y, t, rng);
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t ch = 0; ch < 2; ++ch)
      for (std::int64_t r = 0; r < 4; ++r)
        for (std::int64_t c = 0; c < 5; ++c) BOOST_TEST(at(y, i, ch, r, c) == at(x, i, ch, r, 4 - c));
  Tensor z = x.clone();
  make("{type: hflip, p: 0}")->apply(z, t, rng);
  BOOST_TEST(z.values() == x.values(), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(random_crop_moves_each_image_by_an_offset_within_its_padding_filling_zeros) {
  const std::int64_t n = 400, h = 6, w = 7, pad = 2;
  const Tensor x = images(n, 1, h, w);
  Tensor y = x.clone();
  auto t = no_targets(n);
  Rng rng(3);
  make("{type: random_crop, padding: 2}")->apply(y, t, rng);
  std::set<std::pair<int, int>> seen;
  for (std::int64_t i = 0; i < n; ++i) {
    // The offset that explains output pixel by pixel; exactly one must.
    int found = 0;
    for (int dy = -pad; dy <= pad; ++dy) {
      for (int dx = -pad; dx <= pad; ++dx) {
        bool fits = true;
        for (std::int64_t r = 0; r < h && fits; ++r) {
          for (std::int64_t c = 0; c < w && fits; ++c) {
            const std::int64_t sr = r + dy, sc = c + dx;
            const float want = sr < 0 || sr >= h || sc < 0 || sc >= w ? 0.0f : at(x, i, 0, sr, sc);
            fits = at(y, i, 0, r, c) == want;
          }
        }
        if (fits) {
          ++found;
          seen.insert({dy, dx});
        }
      }
    }
    BOOST_TEST_REQUIRE(found == 1, "image " << i);
  }
  BOOST_TEST(seen.size() == 25u);  // every offset in [-2, 2]^2 is drawn from 400 images
}

BOOST_AUTO_TEST_CASE(random_crop_reflect_and_edge_fill_from_the_image) {
  const Tensor x = images(50, 1, 5, 5);
  for (const char* fill : {"edge", "reflect"}) {
    Tensor y = x.clone();
    auto t = no_targets(50);
    Rng rng(5);
    make(std::string("{type: random_crop, padding: 3, fill: ") + fill + "}")->apply(y, t, rng);
    for (std::int64_t i = 0; i < 50; ++i) {
      for (std::int64_t p = 0; p < 25; ++p) {
        const float v = y.data()[i * 25 + p];
        BOOST_TEST_REQUIRE((v >= static_cast<float>(i * 25 + 1) && v <= static_cast<float>(i * 25 + 25)),
                           fill << ": image " << i << " holds " << v << ", not one of its own pixels");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(cutout_zeroes_one_square_clipped_at_the_border) {
  const std::int64_t n = 200, h = 9, w = 9;
  const Tensor x = images(n, 2, h, w);
  Tensor y = x.clone();
  auto t = no_targets(n);
  Rng rng(2);
  make("{type: cutout, size: 4}")->apply(y, t, rng);
  std::int64_t clipped = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t y0 = h, y1 = -1, x0 = w, x1 = -1, zeros = 0;
    for (std::int64_t r = 0; r < h; ++r) {
      for (std::int64_t c = 0; c < w; ++c) {
        const bool zero = at(y, i, 0, r, c) == 0.0f;
        BOOST_TEST_REQUIRE(zero == (at(y, i, 1, r, c) == 0.0f));  // every channel alike
        if (!zero) {
          BOOST_TEST_REQUIRE(at(y, i, 0, r, c) == at(x, i, 0, r, c));
          continue;
        }
        ++zeros;
        y0 = std::min(y0, r), y1 = std::max(y1, r), x0 = std::min(x0, c), x1 = std::max(x1, c);
      }
    }
    BOOST_TEST_REQUIRE(zeros == (y1 - y0 + 1) * (x1 - x0 + 1));  // one rectangle
    BOOST_TEST_REQUIRE(y1 - y0 + 1 <= 4);
    BOOST_TEST_REQUIRE(x1 - x0 + 1 <= 4);
    clipped += zeros < 16;
  }
  // A centre in rows 0-1 or 8 (columns alike) clips the square: 1 - (6/9)^2 = 56% of images.
  BOOST_TEST(clipped > n * 4 / 10);
  BOOST_TEST(clipped < n * 7 / 10);
}

BOOST_AUTO_TEST_CASE(noise_has_its_standard_deviation_and_no_mean) {
  Tensor x(Shape{64, 500});
  x.fill(2.0f);
  auto t = no_targets(64);
  Rng rng(4);
  make("{type: noise, std: 0.1}")->apply(x, t, rng);
  double sum = 0, sq = 0;
  for (float v : x.values()) sum += v - 2.0, sq += (v - 2.0) * (v - 2.0);
  const double m = sum / static_cast<double>(x.size());
  BOOST_TEST(std::abs(m) < 0.002);
  BOOST_TEST(std::sqrt(sq / static_cast<double>(x.size()) - m * m) == 0.1, boost::test_tools::tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(mixup_is_one_convex_combination_of_two_samples_and_their_targets) {
  const std::int64_t n = 8, d = 4, k = 3;
  // Sample i holds (i+1)^1 .. (i+1)^4: a mix of two samples pins down both the weight and the
  // partner.
  Tensor x(Shape{n, d});
  std::vector<float> y(static_cast<std::size_t>(n * k), 0.0f);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) x.data()[i * d + j] = std::pow(static_cast<float>(i + 1), static_cast<float>(j + 1));
    y[static_cast<std::size_t>(i * k + i % k)] = 1.0f;
  }
  const Tensor before = x.clone();
  const auto y0 = y;
  AugmentTargets t{TargetKind::ClassProbabilities, n, k, {}, y};
  Rng rng(9);
  auto mixup = make("{type: mixup, alpha: 1}");
  BOOST_TEST((mixup->output_kind(Shape{d}, TargetKind::Class) == TargetKind::ClassProbabilities));
  mixup->apply(x, t, rng);
  auto close = [](double got, double want) { return std::abs(got - want) <= 1e-5 * std::max(1.0, std::abs(want)); };
  std::multiset<std::int64_t> partners;
  std::vector<double> weights;
  for (std::int64_t i = 0; i < n; ++i) {
    std::vector<std::int64_t> fit;
    for (std::int64_t p = 0; p < n; ++p) {
      // With partner p, the weight that explains value 0; then every value and target must follow.
      const double a = before.data()[i * d], b = before.data()[p * d];
      const double l = p == i ? 1.0 : (x.data()[i * d] - b) / (a - b);
      bool fits = true;
      for (std::int64_t j = 0; j < d; ++j) {
        fits = fits && close(x.data()[i * d + j], l * before.data()[i * d + j] + (1 - l) * before.data()[p * d + j]);
      }
      for (std::int64_t c = 0; c < k; ++c) {
        const auto at_ = [&](std::int64_t r) { return static_cast<double>(y0[static_cast<std::size_t>(r * k + c)]); };
        fits = fits && close(y[static_cast<std::size_t>(i * k + c)], l * at_(i) + (1 - l) * at_(p));
      }
      if (fits) {
        fit.push_back(p);
        if (p != i) weights.push_back(l);
      }
    }
    BOOST_TEST_REQUIRE(fit.size() == 1u, "sample " << i << " is explained by " << fit.size() << " partners");
    partners.insert(fit.front());
  }
  // One weight for the batch, strictly between 0 and 1, and a permutation of partners.
  BOOST_TEST_REQUIRE(!weights.empty());
  for (double l : weights) BOOST_TEST(close(l, weights.front()));
  BOOST_TEST((weights.front() > 0.0 && weights.front() < 1.0));
  BOOST_TEST(std::set<std::int64_t>(partners.begin(), partners.end()).size() == static_cast<std::size_t>(n));
}

BOOST_AUTO_TEST_CASE(image_augmentations_refuse_flat_samples_naming_themselves) {
  for (const char* type : {"random_crop", "random_shift", "hflip", "cutout"}) {
    try {
      make(std::string("{type: ") + type + "}")->output_kind(Shape{784}, TargetKind::Class);
      BOOST_FAIL(type << " took samples of (784)");
    } catch (const InputError& e) {
      BOOST_TEST(std::string(e.what()).find(type) != std::string::npos, e.what());
      BOOST_TEST(std::string(e.what()).find("(784)") != std::string::npos, e.what());
    }
  }
  BOOST_CHECK_THROW(make("{type: mixup}")->output_kind(Shape{5}, TargetKind::ClassPerPosition), InputError);
  BOOST_TEST((make("{type: noise}")->output_kind(Shape{784}, TargetKind::Regression) == TargetKind::Regression));
}

BOOST_AUTO_TEST_CASE(the_thread_count_never_changes_a_batch) {
  for (const char* spec : {"{type: random_crop, padding: 3, fill: reflect}", "{type: hflip}", "{type: noise}",
                           "{type: cutout}", "{type: random_shift}"}) {
    std::vector<float> out[2];
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      Tensor x = images(64, 3, 16, 16);  // 49,152 values: enough to split
      auto t = no_targets(64);
      Rng rng(11);
      make(spec)->apply(x, t, rng);
      out[threads - 1].assign(x.values().begin(), x.values().end());
    }
    BOOST_TEST((out[0] == out[1]), spec);
  }
}
