// add and multiply: inputs of one shape combined element by element (Keras's Add and
// Multiply, Caffe's Eltwise SUM and PROD). A residual block ends with `add`.
#include <lamina/error.hpp>
#include <lamina/merge.hpp>
#include <lamina/onnx.hpp>
#include <lamina/parallel.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "merges.hpp"

namespace lamina_merge {
namespace {

// ONNX Add or Mul, two inputs at a time in the order the merge adds them (the same rounding).
std::string chain(lamina::OnnxGraph& g, const char* op, std::span<const lamina::OnnxValue> in) {
  std::string acc = g.node(op, {in[0].name, in[1].name});
  for (std::size_t k = 2; k < in.size(); ++k) acc = g.node(op, {acc, in[k].name});
  return acc;
}

lamina::Shape same_shapes(std::span<const lamina::Shape> inputs, const char* type) {
  if (inputs.size() < 2) {
    throw lamina::InputError(
        std::string(type) + " needs at least two inputs, `inputs` names " + std::to_string(inputs.size()));
  }
  for (std::size_t k = 1; k < inputs.size(); ++k) {
    if (inputs[k] != inputs[0]) {
      throw lamina::InputError(std::string(type) + " needs inputs of one shape; input 0 is " + inputs[0].str() +
                               " per sample, input " + std::to_string(k) + " is " + inputs[k].str());
    }
  }
  return inputs[0];
}

class Add final : public lamina::Merge, public lamina::OnnxExportable {
 public:
  std::string export_onnx(lamina::OnnxGraph& g, std::span<const lamina::OnnxValue> in) const override {
    return chain(g, "Add", in);
  }
  lamina::Shape build(std::span<const lamina::Shape> inputs, lamina::BuildContext&) override {
    return same_shapes(inputs, "add");
  }
  void forward(std::span<const lamina::Tensor* const> xs, lamina::Tensor& y, lamina::Context&) override {
    y.resize(xs[0]->shape());
    float* out = y.data();
    over_elements(y.size(), [&](std::int64_t b, std::int64_t e) {
      const float* a = xs[0]->data();
      const float* c = xs[1]->data();
      for (std::int64_t i = b; i < e; ++i) out[i] = a[i] + c[i];
      for (std::size_t k = 2; k < xs.size(); ++k) {
        const float* x = xs[k]->data();
        for (std::int64_t i = b; i < e; ++i) out[i] += x[i];
      }
    });
  }
  void backward(const lamina::Tensor& dy, std::span<lamina::Tensor* const> dxs, lamina::Context& ctx) override {
    if (!ctx.need_input_grad) return;
    for (auto* dx : dxs) dx->copy_from(dy);  // d(sum)/dx_k = 1
  }
};

class Multiply final : public lamina::Merge, public lamina::OnnxExportable {
 public:
  std::string export_onnx(lamina::OnnxGraph& g, std::span<const lamina::OnnxValue> in) const override {
    return chain(g, "Mul", in);
  }
  lamina::Shape build(std::span<const lamina::Shape> inputs, lamina::BuildContext&) override {
    return same_shapes(inputs, "multiply");
  }
  void forward(std::span<const lamina::Tensor* const> xs, lamina::Tensor& y, lamina::Context&) override {
    xs_.assign(xs.begin(), xs.end());  // alive until backward (the merge contract)
    y.resize(xs[0]->shape());
    float* out = y.data();
    over_elements(y.size(), [&](std::int64_t b, std::int64_t e) {
      std::copy(xs[0]->data() + b, xs[0]->data() + e, out + b);
      for (std::size_t k = 1; k < xs.size(); ++k) {
        const float* x = xs[k]->data();
        for (std::int64_t i = b; i < e; ++i) out[i] *= x[i];
      }
    });
  }
  // d/dx_k = dy * the product of the other inputs (not y / x_k: x_k may be 0).
  void backward(const lamina::Tensor& dy, std::span<lamina::Tensor* const> dxs, lamina::Context& ctx) override {
    if (!ctx.need_input_grad) return;
    for (std::size_t k = 0; k < dxs.size(); ++k) {
      dxs[k]->resize(dy.shape());
      float* dx = dxs[k]->data();
      over_elements(dy.size(), [&](std::int64_t b, std::int64_t e) {
        std::copy(dy.data() + b, dy.data() + e, dx + b);
        for (std::size_t m = 0; m < xs_.size(); ++m) {
          if (m == k) continue;
          const float* x = xs_[m]->data();
          for (std::int64_t i = b; i < e; ++i) dx[i] *= x[i];
        }
      });
    }
  }

 private:
  std::vector<const lamina::Tensor*> xs_;
};

}  // namespace

void register_elementwise(lamina::Registrar& r) {
  r.add<lamina::Merge>("add", "element-wise sum of inputs of one shape (a residual connection)", {},
                       [](const lamina::Config&) { return std::make_unique<Add>(); });
  r.add<lamina::Merge>("multiply", "element-wise product of inputs of one shape (gating)", {},
                       [](const lamina::Config&) { return std::make_unique<Multiply>(); });
}

}  // namespace lamina_merge
