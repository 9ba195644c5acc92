// Network: a chain of layers with the buffers between them. It owns every activation and
// gradient buffer, so after the first batch of a given size nothing is allocated.
//
//   net.add(std::move(layer), "layers.0");
//   net.build(lamina::Shape{784}, init_rng);          // per-sample input shape
//   const Tensor& scores = net.forward(x, ctx);       // x: N x 784
//   net.backward(dscores, ctx);                       // fills every Param::grad
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lamina/context.hpp"
#include "lamina/layer.hpp"

namespace lamina {

class Network {
 public:
  void add(std::unique_ptr<Layer> layer, std::string path, std::string type);

  // Builds every layer in turn; returns the per-sample output shape. Parameter names become
  // "<path>.<name>", e.g. "layers.0.W".
  Shape build(const Shape& input, Rng& init_rng);
  const Tensor& forward(const Tensor& x, Context& ctx);
  void backward(const Tensor& dscores, Context& ctx);

  std::size_t size() const { return layers_.size(); }
  const Shape& input_shape() const { return input_; }  // per sample, as built
  Layer& layer(std::size_t i) { return *layers_[i].layer; }
  const std::string& path(std::size_t i) const { return layers_[i].path; }
  const std::string& type(std::size_t i) const { return layers_[i].type; }
  std::vector<Param*> params();
  std::vector<Buffer*> state();
  std::int64_t parameter_count();

 private:
  struct Entry {
    std::unique_ptr<Layer> layer;
    std::string path;
    std::string type;
    Tensor out;   // this layer's output
    Tensor grad;  // gradient w.r.t. this layer's input
  };
  std::vector<Entry> layers_;
  Shape input_;
  Tensor input_grad_sink_;
};

}  // namespace lamina
