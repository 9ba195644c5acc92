#include "runtime/network.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "lamina/error.hpp"
#include "runtime/plugin_guard.hpp"

namespace lamina {
namespace {

// Whether inputs[k] is the first mention of its node (`inputs: [a, a]` mentions a twice).
bool first_mention(const std::vector<int>& inputs, std::size_t k) {
  return std::find(inputs.begin(), inputs.end(), inputs[k]) == inputs.begin() + static_cast<long>(k);
}

void add_into(Tensor& sum, const Tensor& term) {
  float* s = sum.data();
  const float* t = term.data();
  for (std::int64_t k = 0; k < sum.size(); ++k) s[k] += t[k];
}

}  // namespace

void Network::add(std::unique_ptr<Layer> layer, std::string path, std::string type, std::vector<int> inputs) {
  if (inputs.empty()) inputs.push_back(static_cast<int>(nodes_.size()) - 1);
  add_node(std::move(layer), nullptr, std::move(path), std::move(type), std::move(inputs));
}

void Network::set_provider(std::string plugin, std::string file) {
  nodes_.back().plugin = std::move(plugin);
  nodes_.back().file = std::move(file);
}

void Network::add(std::unique_ptr<Merge> merge, std::string path, std::string type, std::vector<int> inputs) {
  add_node(nullptr, std::move(merge), std::move(path), std::move(type), std::move(inputs));
}

void Network::add_node(std::unique_ptr<Layer> layer, std::unique_ptr<Merge> merge, std::string path, std::string type,
                       std::vector<int> inputs) {
  Node n;
  n.layer = std::move(layer);
  n.merge = std::move(merge);
  n.path = std::move(path);
  n.type = std::move(type);
  n.inputs = std::move(inputs);
  nodes_.push_back(std::move(n));
}

Shape Network::build(const Shape& input, Rng& init_rng) {
  input_ = input;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.inputs.empty() || (n.layer && n.inputs.size() != 1)) {
      throw Error(fmt::format("{} ({}): internal error: {} inputs", n.path, n.type, n.inputs.size()));
    }
    std::vector<Shape> shapes;
    for (int j : n.inputs) {
      if (j < kInput || j >= static_cast<int>(i)) {
        throw Error(fmt::format("{} ({}): internal error: input {} is not an earlier node", n.path, n.type, j));
      }
      shapes.push_back(j == kInput ? input_ : nodes_[static_cast<std::size_t>(j)].shape);
    }
    BuildContext ctx{&init_rng, n.path};
    n.site = {n.path, n.type, n.plugin, n.file};
    try {
      detail::plugin_call(n.site, "build", [&] {
        n.shape = n.layer ? n.layer->build(shapes[0], ctx) : n.merge->build(shapes, ctx);
      });
    } catch (const InputError& e) {
      // A shape that does not fit is a mistake in the model file: say where.
      if (n.where.empty() || std::string_view(e.what()).find(n.where) != std::string_view::npos) throw;
      throw InputError(fmt::format("{}: {}", n.where, e.what()));
    }
    if (n.shape.rank() == 0 || n.shape.numel() <= 0) {
      throw Error(fmt::format("{} ({}): build returned an empty output shape", n.path, n.type));
    }
    for (auto& p : params(i)) p.name = n.path + "." + p.name;
    for (auto& b : state(i)) b.name = n.path + "." + b.name;
  }
  plan();
  return nodes_.back().shape;
}

void Network::plan() {
  const int count = static_cast<int>(nodes_.size());
  for (int i = 0; i < count; ++i) {
    Node& n = nodes_[static_cast<std::size_t>(i)];
    n.learns_upstream = !params(static_cast<std::size_t>(i)).empty() ||
                        std::any_of(n.inputs.begin(), n.inputs.end(), [&](int j) {
                          return j != kInput && nodes_[static_cast<std::size_t>(j)].learns_upstream;
                        });
  }
  int input_last_reader = -1;
  for (int i = 0; i < count; ++i) {
    for (int j : nodes_[static_cast<std::size_t>(i)].inputs) {
      (j == kInput ? input_last_reader : nodes_[static_cast<std::size_t>(j)].last_reader) = i;
    }
  }
  nodes_.back().last_reader = count;
  for (const Node& n : nodes_) {
    if (n.last_reader < 0) {
      throw InputError(fmt::format("{} ({}): its output is read by no later layer and it is not the last layer "
                                   "(the model's output)",
                                   n.path, n.type));
    }
  }

  // Eval buffers by liveness: a node's buffer is taken before its inputs' are given back, so an
  // output never shares a buffer with an input of the same node.
  std::vector<int> free_slots;
  int slots = 0;
  for (int i = 0; i < count; ++i) {
    Node& n = nodes_[static_cast<std::size_t>(i)];
    if (free_slots.empty()) {
      n.eval_slot = slots++;
    } else {
      n.eval_slot = free_slots.back();
      free_slots.pop_back();
    }
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      const int j = n.inputs[k];
      if (j != kInput && first_mention(n.inputs, k) && nodes_[static_cast<std::size_t>(j)].last_reader == i) {
        free_slots.push_back(nodes_[static_cast<std::size_t>(j)].eval_slot);
      }
    }
  }
  eval_.resize(static_cast<std::size_t>(slots));

  // Gradients: the last reader of an output (the first to run backward) writes its gradient in
  // place; every other reader writes aside and adds it in.
  for (int i = 0; i < count; ++i) {
    Node& n = nodes_[static_cast<std::size_t>(i)];
    n.dxs.resize(n.inputs.size());
    n.dx_to.assign(n.inputs.size(), nullptr);
    n.xs.assign(n.inputs.size(), nullptr);
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      const int j = n.inputs[k];
      const int last = j == kInput ? input_last_reader : nodes_[static_cast<std::size_t>(j)].last_reader;
      if (first_mention(n.inputs, k) && last == i) {
        n.dx_to[k] = j == kInput ? &input_grad_ : &nodes_[static_cast<std::size_t>(j)].dout;
      } else {
        n.dx_to[k] = &n.dxs[k];
      }
    }
  }
}

const Tensor& Network::input_of(int j, const Tensor& x, bool eval) const {
  if (j == kInput) return x;
  const Node& n = nodes_[static_cast<std::size_t>(j)];
  return eval ? eval_[static_cast<std::size_t>(n.eval_slot)] : n.out;
}

const Tensor& Network::forward(const Tensor& x, Context& ctx) {
  const bool eval = ctx.mode == Mode::Eval;
  for (Node& n : nodes_) {
    Tensor& y = eval ? eval_[static_cast<std::size_t>(n.eval_slot)] : n.out;
    if (n.layer) {
      const Tensor& in = input_of(n.inputs[0], x, eval);
      detail::plugin_call(n.site, "forward", [&] { n.layer->forward(in, y, ctx); });
    } else {
      for (std::size_t k = 0; k < n.inputs.size(); ++k) n.xs[k] = &input_of(n.inputs[k], x, eval);
      detail::plugin_call(n.site, "forward", [&] { n.merge->forward(n.xs, y, ctx); });
    }
    // What the next layer (or the loss) gets must be what build promised: a wrong shape from
    // plugin code is named here, not blamed on whoever reads it.
    const Shape& got = y.shape();
    bool fits = got.rank() == n.shape.rank() + 1 && got[0] == x.shape()[0];
    for (int d = 0; fits && d < n.shape.rank(); ++d) fits = got[d + 1] == n.shape[d];
    if (!fits) {
      throw InputError(fmt::format("{} ({}{}): forward gave a batch of shape {}, but its build promised {} per "
                                   "sample for {} samples",
                                   n.path, detail::plugin_named(n.site),
                                   n.file.empty() ? "" : ", " + n.file, got.str(), n.shape.str(), x.shape()[0]));
    }
  }
  const Node& last = nodes_.back();
  return eval ? eval_[static_cast<std::size_t>(last.eval_slot)] : last.out;
}

void Network::backward(const Tensor& dscores, Context& ctx, Tensor* dx) {
  for (std::size_t i = nodes_.size(); i-- > 0;) {
    Node& n = nodes_[i];
    // No parameters here or before: nothing to compute (its gradient was not even sent).
    if (dx == nullptr && !n.learns_upstream) continue;
    const Tensor& dy = i + 1 == nodes_.size() ? dscores : n.dout;
    Context c = ctx;
    c.need_input_grad = dx != nullptr || std::any_of(n.inputs.begin(), n.inputs.end(), [&](int j) {
                          return j != kInput && nodes_[static_cast<std::size_t>(j)].learns_upstream;
                        });
    if (n.layer) {
      detail::plugin_call(n.site, "backward", [&] { n.layer->backward(dy, *n.dx_to[0], c); });
    } else {
      detail::plugin_call(n.site, "backward", [&] { n.merge->backward(dy, n.dx_to, c); });
    }
    if (!c.need_input_grad) continue;
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      if (n.dx_to[k] != &n.dxs[k]) continue;
      const int j = n.inputs[k];
      if (j == kInput && dx == nullptr) continue;
      Tensor& sum = j == kInput ? input_grad_ : nodes_[static_cast<std::size_t>(j)].dout;
      if (sum.shape() != n.dxs[k].shape()) {
        throw Error(fmt::format("{} ({}): backward gave input {} a gradient of shape {}, expected {}", n.path, n.type,
                                k, n.dxs[k].shape().str(), sum.shape().str()));
      }
      add_into(sum, n.dxs[k]);
    }
  }
  if (dx != nullptr) dx->copy_from(input_grad_);
}

std::span<Param> Network::params(std::size_t i) {
  return nodes_[i].layer ? nodes_[i].layer->params() : nodes_[i].merge->params();
}

std::span<Buffer> Network::state(std::size_t i) {
  return nodes_[i].layer ? nodes_[i].layer->state() : nodes_[i].merge->state();
}

std::vector<Param*> Network::params() {
  std::vector<Param*> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    for (auto& p : params(i)) out.push_back(&p);
  }
  return out;
}

std::vector<Buffer*> Network::state() {
  std::vector<Buffer*> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    for (auto& b : state(i)) out.push_back(&b);
  }
  return out;
}

std::int64_t Network::parameter_count() {
  std::int64_t n = 0;
  for (auto* p : params()) n += p->value.size();
  return n;
}

}  // namespace lamina
