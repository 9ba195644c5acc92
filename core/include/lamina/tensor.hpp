// Tensor: a float32, row-major array of 1 to 4 dimensions with 64-byte-aligned owned storage.
//
//   lamina::Tensor x({100, 784});          // zero-filled
//   x.resize({50, 784});                   // reuses the storage: no allocation
//   Eigen::Map<RowMatrix> m(x.data(), x.dim(0), x.dim(1));   // math inside plugins
//
// Tensors move cheaply and never copy implicitly (use clone()), so a hidden copy of a batch
// cannot slip into a training step. resize() allocates only when the new size exceeds the
// capacity, which is what lets forward/backward run without allocating in steady state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>

#include "lamina/export.hpp"

namespace lamina {

class LAMINA_API Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  static Shape from(std::span<const std::int64_t> dims);

  int rank() const { return rank_; }
  std::int64_t operator[](int i) const { return dims_[static_cast<std::size_t>(i)]; }
  std::int64_t numel() const;
  std::string str() const;  // "(100, 784)"
  // (n, ...this shape): a batch of n samples of this shape (refused past kMaxRank by from()).
  Shape batched(std::int64_t n) const {
    std::array<std::int64_t, kMaxRank + 1> dims{n};
    for (int i = 0; i < rank_; ++i) dims[static_cast<std::size_t>(i + 1)] = dims_[static_cast<std::size_t>(i)];
    return from(std::span<const std::int64_t>(dims.data(), static_cast<std::size_t>(rank_ + 1)));
  }

  friend bool operator==(const Shape& a, const Shape& b) { return a.rank_ == b.rank_ && a.dims_ == b.dims_; }

 private:
  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

class LAMINA_API Tensor {
 public:
  static constexpr std::size_t kAlignment = 64;

  Tensor() = default;
  explicit Tensor(const Shape& shape);  // zero-filled
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  Tensor clone() const;
  // Changes the shape; contents are unspecified afterwards. Allocates only if the new size
  // exceeds the capacity.
  void resize(const Shape& shape);
  void copy_from(const Tensor& other);  // resize + copy values

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  std::int64_t dim(int i) const { return shape_[i]; }
  std::int64_t size() const { return shape_.numel(); }
  std::int64_t capacity() const { return capacity_; }
  bool empty() const { return size() == 0; }
  // For 2-D views: rows are the first dimension, columns everything after it.
  std::int64_t rows() const { return shape_.rank() == 0 ? 0 : shape_[0]; }
  std::int64_t cols() const { return rows() == 0 ? 0 : size() / rows(); }

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::span<float> values() { return {data(), static_cast<std::size_t>(size())}; }
  std::span<const float> values() const { return {data(), static_cast<std::size_t>(size())}; }
  float& operator[](std::int64_t i) { return data_[static_cast<std::size_t>(i)]; }
  float operator[](std::int64_t i) const { return data_[static_cast<std::size_t>(i)]; }

  void fill(float value);
  void zero() { fill(0.0f); }

 private:
  struct Free {
    void operator()(float* p) const noexcept;
  };
  Shape shape_;
  std::int64_t capacity_ = 0;
  std::unique_ptr<float[], Free> data_;
};

}  // namespace lamina
