#include "lamina/tensor.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "lamina/error.hpp"

namespace lamina {

Shape::Shape(std::initializer_list<std::int64_t> dims) : Shape(from({dims.begin(), dims.size()})) {}

Shape Shape::from(std::span<const std::int64_t> dims) {
  if (dims.size() > static_cast<std::size_t>(kMaxRank)) {
    throw Error("a tensor has at most 4 dimensions, not " + std::to_string(dims.size()));
  }
  Shape s;
  for (std::int64_t d : dims) {
    if (d < 0) throw Error("negative tensor dimension " + std::to_string(d));
    s.dims_[static_cast<std::size_t>(s.rank_++)] = d;
  }
  return s;
}

std::int64_t Shape::numel() const {
  if (rank_ == 0) return 0;
  std::int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[static_cast<std::size_t>(i)]);
  }
  return s + ")";
}

void Tensor::Free::operator()(float* p) const noexcept { std::free(p); }

Tensor::Tensor(const Shape& shape) {
  resize(shape);
  zero();
}

void Tensor::resize(const Shape& shape) {
  const std::int64_t n = shape.numel();
  if (n > capacity_) {
    const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
    const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    auto* p = static_cast<float*>(std::aligned_alloc(kAlignment, rounded));
    if (p == nullptr) throw std::bad_alloc();
    data_.reset(p);
    capacity_ = n;
  }
  shape_ = shape;
}

Tensor Tensor::clone() const {
  Tensor t;
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& other) {
  resize(other.shape());
  if (other.size() > 0) {
    std::memcpy(data(), other.data(), static_cast<std::size_t>(other.size()) * sizeof(float));
  }
}

void Tensor::fill(float value) { std::fill_n(data(), size(), value); }

}  // namespace lamina
