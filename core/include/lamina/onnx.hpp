// ONNX export: how a layer or merge type takes part in `lamina export`.
//
// A type that can be exported also derives from OnnxExportable and writes its inference
// computation (Mode::Eval: running statistics, no dropout) as ONNX nodes into the graph the host
// gives it:
//
//   class LeakyRelu final : public lamina::Layer, public lamina::OnnxExportable {
//     ...
//     std::string export_onnx(lamina::OnnxGraph& g, std::span<const lamina::OnnxValue> in) const override {
//       return g.node("LeakyRelu", {in[0].name}, {{"alpha", alpha_}});
//     }
//   };
//
// The host finds the capability with dynamic_cast (COM's QueryInterface, done by the language),
// so Layer and Merge are unchanged and a plugin built before this header existed still loads:
// its types are refused by `lamina export` with a message naming the layer and the plugin.
//
// Values are batched: an input of one sample shape (C, H, W) is the ONNX value N x C x H x W,
// N being the graph's symbolic batch dimension; the value returned must be N x the shape that
// build() returned. Layers flatten their input themselves where they would (affine reads a
// (C, H, W) sample as C*H*W features: ONNX Flatten with axis 1, then Gemm).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "lamina/export.hpp"
#include "lamina/tensor.hpp"

namespace lamina {

// A value of the graph being written: its name and the shape of ONE sample (no batch dimension).
struct OnnxValue {
  std::string name;
  Shape shape;
};

// A node's attribute: INT, FLOAT, INTS, FLOATS or STRING in ONNX's terms.
using OnnxAttributeValue =
    std::variant<std::int64_t, float, std::vector<std::int64_t>, std::vector<float>, std::string>;
struct OnnxAttribute {
  std::string name;
  OnnxAttributeValue value;
};

// The graph being written, as one layer sees it (the host implements it). Names a layer makes
// are prefixed with the layer's path, so a constant "W" of layers.3 is "layers.3.W" — the name its
// tensor has in model.safetensors.
class LAMINA_API OnnxGraph {
 public:
  // The opset of the default ONNX domain the file declares (docs/exporting.md).
  virtual int opset() const = 0;
  // A float32 constant (an initializer) holding `value`, with value's shape as written; returns
  // its name.
  virtual std::string constant(std::string_view hint, const Tensor& value) = 0;
  // A 1-D int64 constant (the shape input of Reshape, the axes of Unsqueeze, ...).
  virtual std::string constant_ints(std::string_view hint, std::span<const std::int64_t> values) = 0;
  // Appends a node of the default domain reading `inputs` (names returned by this graph: the
  // layer's inputs, constants, earlier nodes' outputs) and returns the name of its one output.
  // An unknown input name or an empty op is an error naming the layer.
  virtual std::string node(std::string_view op, std::vector<std::string> inputs,
                           std::vector<OnnxAttribute> attributes = {}) = 0;

 protected:
  OnnxGraph() = default;
  OnnxGraph(const OnnxGraph&) = delete;
  OnnxGraph& operator=(const OnnxGraph&) = delete;
  ~OnnxGraph() = default;  // not owned through this view
};

class LAMINA_API OnnxExportable {
 public:
  virtual ~OnnxExportable();  // defined in liblamina_sdk: one type_info for every plugin's cast

  // Writes this layer's inference computation reading `inputs` (one for a layer, one per input
  // for a merge, in the order of its `inputs:`) and returns the name of its output value. May
  // return an input's name unchanged (dropout: the identity). Called after build() and after
  // the trained weights are loaded.
  virtual std::string export_onnx(OnnxGraph& graph, std::span<const OnnxValue> inputs) const = 0;
};

}  // namespace lamina
