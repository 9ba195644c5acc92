// Network: a directed acyclic graph of layers (one input) and merges (several), kept in the
// order of the model file, with the buffers between them. A node's inputs are earlier nodes
// (kInput is the network's input); the last node is the output. A chain is the graph where
// each node takes the one before it. The network owns every activation and gradient buffer,
// so after the first batch of a given size nothing is allocated.
//
//   net.add(std::move(layer), "layers.0", "affine");               // input: the previous node
//   net.add(std::move(merge), "layers.5", "add", {1, 4});          // inputs: nodes 1 and 4
//   net.build(lamina::Shape{784}, init_rng);                        // per-sample input shape
//   const Tensor& scores = net.forward(x, ctx);                     // x: N x 784
//   net.backward(dscores, ctx);                                     // fills every Param::grad
//
// Training keeps every node's output until backward (the layers' contract). An Eval pass keeps
// each output only until its last reader has run: outputs share a few buffers, assigned once
// at build by liveness, so evaluating a deep chain needs two batch-sized buffers, not one per
// layer. The gradient of an output read by several nodes is the sum of what each sends back.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lamina/context.hpp"
#include "lamina/layer.hpp"
#include "lamina/merge.hpp"
#include "runtime/plugin_guard.hpp"

namespace lamina {

class Network {
 public:
  static constexpr int kInput = -1;  // a node input naming the network's own input

  // `inputs` empty: the previous node (the network's input for the first).
  void add(std::unique_ptr<Layer> layer, std::string path, std::string type, std::vector<int> inputs = {});
  void add(std::unique_ptr<Merge> merge, std::string path, std::string type, std::vector<int> inputs);
  // The plugin (and its file) that made the node added last, for the plugin guard's messages.
  void set_provider(std::string plugin, std::string file);

  // Where node i is written (model.yaml:7:5), for the messages of its build.
  void locate(std::size_t i, std::string where) { nodes_[i].where = std::move(where); }

  // Builds every node in order; returns the per-sample output shape. Parameter names become
  // "<path>.<name>", e.g. "layers.0.W". Throws InputError when a node's output is read by no
  // later node and is not the output.
  Shape build(const Shape& input, Rng& init_rng);
  const Tensor& forward(const Tensor& x, Context& ctx);
  // `dx`, when given, receives the gradient with respect to the network's input.
  void backward(const Tensor& dscores, Context& ctx, Tensor* dx = nullptr);

  std::size_t size() const { return nodes_.size(); }
  const Shape& input_shape() const { return input_; }  // per sample, as built
  const std::string& path(std::size_t i) const { return nodes_[i].path; }
  const std::string& type(std::size_t i) const { return nodes_[i].type; }
  const std::vector<int>& inputs(std::size_t i) const { return nodes_[i].inputs; }
  const Shape& output_shape(std::size_t i) const { return nodes_[i].shape; }  // per sample, once built
  bool is_merge(std::size_t i) const { return nodes_[i].merge != nullptr; }
  const Layer* layer(std::size_t i) const { return nodes_[i].layer.get(); }  // null for a merge
  const Merge* merge(std::size_t i) const { return nodes_[i].merge.get(); }  // null for a layer
  std::span<Param> params(std::size_t i);
  std::span<Buffer> state(std::size_t i);
  std::vector<Param*> params();
  std::vector<Buffer*> state();
  std::int64_t parameter_count();

 private:
  struct Node {
    std::unique_ptr<Layer> layer;  // exactly one of layer, merge
    std::unique_ptr<Merge> merge;
    std::string path;
    std::string type;
    std::string plugin, file;  // who made it
    // The four above as the plugin guard takes them, made once at build: a site built per call
    // would copy the file's path (longer than a short string) at every forward and backward.
    detail::PluginSite site;
    std::string where;
    std::vector<int> inputs;
    Shape shape;
    Tensor out;                  // output in Train mode
    Tensor dout;                 // gradient w.r.t. the output, summed over the readers
    std::vector<Tensor> dxs;     // gradients w.r.t. inputs this node does not write in place
    std::vector<Tensor*> dx_to;  // per input: where backward writes (dout of the input or dxs)
    std::vector<const Tensor*> xs;
    int last_reader = -1;        // the last node that reads this output (size() for the output)
    int eval_slot = 0;           // the Eval-mode buffer that holds the output
    // It or a node it reads (transitively) has parameters: only then is a gradient with
    // respect to its output of use, so a layer after parameter-free ones only (a reshape of the
    // input) skips its input gradient, as the first layer does.
    bool learns_upstream = false;
  };
  void add_node(std::unique_ptr<Layer> layer, std::unique_ptr<Merge> merge, std::string path, std::string type,
                std::vector<int> inputs);
  const Tensor& input_of(int j, const Tensor& x, bool eval) const;
  void plan();  // readers, eval slots and gradient destinations, after build

  std::vector<Node> nodes_;
  Shape input_;
  std::vector<Tensor> eval_;  // the shared Eval-mode buffers
  Tensor input_grad_;         // the network input's gradient, when a merge or dx asks for it
};

}  // namespace lamina
