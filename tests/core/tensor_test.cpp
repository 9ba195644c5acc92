#define BOOST_TEST_MODULE tensor
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <lamina/error.hpp>
#include <lamina/tensor.hpp>

using lamina::Shape;
using lamina::Tensor;

BOOST_AUTO_TEST_CASE(shape_counts_and_prints) {
  const Shape s{2, 3, 4};
  BOOST_TEST(s.rank() == 3);
  BOOST_TEST(s.numel() == 24);
  BOOST_TEST(s.str() == "(2, 3, 4)");
  BOOST_TEST((s == Shape{2, 3, 4}));
  BOOST_TEST(!(s == Shape{2, 12}));
  BOOST_TEST(Shape{}.numel() == 0);
}

BOOST_AUTO_TEST_CASE(shape_rejects_five_dimensions_and_negative_sizes) {
  BOOST_CHECK_THROW((Shape{1, 2, 3, 4, 5}), lamina::Error);
  BOOST_CHECK_THROW((Shape{2, -1}), lamina::Error);
}

BOOST_AUTO_TEST_CASE(new_tensor_is_zero_filled_and_aligned) {
  Tensor t(Shape{7, 5});
  BOOST_TEST(t.size() == 35);
  BOOST_TEST(t.rows() == 7);
  BOOST_TEST(t.cols() == 5);
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(t.data()) % Tensor::kAlignment == 0u);
  for (float v : t.values()) BOOST_TEST(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(resize_within_capacity_keeps_the_storage) {
  Tensor t(Shape{100, 10});
  const float* before = t.data();
  t.resize(Shape{50, 10});
  BOOST_TEST(t.data() == before);
  BOOST_TEST(t.size() == 500);
  BOOST_TEST(t.capacity() == 1000);
  t.resize(Shape{100, 10});
  BOOST_TEST(t.data() == before);
  t.resize(Shape{200, 10});
  BOOST_TEST(t.capacity() == 2000);
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(t.data()) % Tensor::kAlignment == 0u);
}

BOOST_AUTO_TEST_CASE(clone_copies_and_move_steals) {
  Tensor a(Shape{3});
  a[0] = 1;
  a[1] = 2;
  a[2] = 3;
  Tensor b = a.clone();
  b[0] = 9;
  BOOST_TEST(a[0] == 1.0f);
  BOOST_TEST(b[2] == 3.0f);
  const float* p = a.data();
  Tensor c = std::move(a);
  BOOST_TEST(c.data() == p);
  BOOST_TEST(c[1] == 2.0f);
}

BOOST_AUTO_TEST_CASE(fill_sets_every_element) {
  Tensor t(Shape{2, 2, 2, 2});
  t.fill(1.5f);
  float sum = 0;
  for (float v : t.values()) sum += v;
  BOOST_TEST(sum == 24.0f);
}
