// Eigen views of Tensors for plugin math. Eigen types stay inside a plugin: they never cross
// the plugin boundary, whose types are Tensor and Param only (Eigen's layout depends on flags).
//
//   auto X = lamina::matrix(x);            // N x D view, row-major, no copy
//   auto W = lamina::matrix(w, in, out);
//   Y.noalias() = X * W;
#pragma once

#include <Eigen/Core>

#include "lamina/tensor.hpp"

namespace lamina {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixView = Eigen::Map<RowMatrix, Eigen::Aligned64>;
using ConstMatrixView = Eigen::Map<const RowMatrix, Eigen::Aligned64>;
using ArrayView = Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64>;
using ConstArrayView = Eigen::Map<const Eigen::ArrayXf, Eigen::Aligned64>;

// rows x cols view; by default rows = first dimension, cols = the rest.
inline MatrixView matrix(Tensor& t) { return {t.data(), t.rows(), t.cols()}; }
inline ConstMatrixView matrix(const Tensor& t) { return {t.data(), t.rows(), t.cols()}; }
inline MatrixView matrix(Tensor& t, Eigen::Index rows, Eigen::Index cols) { return {t.data(), rows, cols}; }
inline ConstMatrixView matrix(const Tensor& t, Eigen::Index rows, Eigen::Index cols) { return {t.data(), rows, cols}; }
// Flat element-wise view.
inline ArrayView array(Tensor& t) { return {t.data(), t.size()}; }
inline ConstArrayView array(const Tensor& t) { return {t.data(), t.size()}; }

}  // namespace lamina
