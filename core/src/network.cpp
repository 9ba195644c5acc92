#include "runtime/network.hpp"

#include <fmt/format.h>

#include "lamina/error.hpp"

namespace lamina {
namespace {

// Plugin code may throw anything; the user must learn which layer failed.
template <class F>
void guarded(const std::string& path, const std::string& type, const char* what, F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    throw InputError(fmt::format("{} ({}): {}", path, type, e.what()));
  } catch (const Error& e) {
    throw Error(fmt::format("{} ({}): {} failed: {}", path, type, what, e.what()));
  } catch (const std::bad_alloc&) {
    throw Error(fmt::format("{} ({}): out of memory in {}", path, type, what));
  } catch (const std::exception& e) {
    // A plugin that throws something other than a Lamina error is a defective input, like a
    // bad model file: exit status 2, naming the layer.
    throw InputError(fmt::format("{} ({}): {} failed in plugin code: {}", path, type, what, e.what()));
  }
}

}  // namespace

void Network::add(std::unique_ptr<Layer> layer, std::string path, std::string type) {
  layers_.push_back(Entry{std::move(layer), std::move(path), std::move(type), {}, {}});
}

Shape Network::build(const Shape& input, Rng& init_rng) {
  input_ = input;
  Shape shape = input;
  for (auto& e : layers_) {
    BuildContext ctx{&init_rng, e.path};
    guarded(e.path, e.type, "build", [&] { shape = e.layer->build(shape, ctx); });
    if (shape.rank() == 0 || shape.numel() <= 0) {
      throw Error(fmt::format("{} ({}): build returned an empty output shape", e.path, e.type));
    }
    for (auto& p : e.layer->params()) p.name = e.path + "." + p.name;
    for (auto& b : e.layer->state()) b.name = e.path + "." + b.name;
  }
  return shape;
}

const Tensor& Network::forward(const Tensor& x, Context& ctx) {
  const Tensor* in = &x;
  for (auto& e : layers_) {
    guarded(e.path, e.type, "forward", [&] { e.layer->forward(*in, e.out, ctx); });
    in = &e.out;
  }
  return *in;
}

void Network::backward(const Tensor& dscores, Context& ctx) {
  const Tensor* dy = &dscores;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    auto& e = layers_[i];
    Context c = ctx;
    c.need_input_grad = i > 0;
    Tensor& dx = i > 0 ? e.grad : input_grad_sink_;
    guarded(e.path, e.type, "backward", [&] { e.layer->backward(*dy, dx, c); });
    dy = &e.grad;
  }
}

std::vector<Param*> Network::params() {
  std::vector<Param*> out;
  for (auto& e : layers_) {
    for (auto& p : e.layer->params()) out.push_back(&p);
  }
  return out;
}

std::vector<Buffer*> Network::state() {
  std::vector<Buffer*> out;
  for (auto& e : layers_) {
    for (auto& b : e.layer->state()) out.push_back(&b);
  }
  return out;
}

std::int64_t Network::parameter_count() {
  std::int64_t n = 0;
  for (auto* p : params()) n += p->value.size();
  return n;
}

}  // namespace lamina
