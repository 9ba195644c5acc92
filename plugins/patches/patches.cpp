// patches: a (C, H, W) image to the sequence of its non-overlapping p x p patches, the input of
// a vision transformer (Dosovitskiy et al. 2021): (H/p * W/p, C * p * p), patches in row-major
// order of the grid, each patch's values in (c, dy, dx) order (einops' "c (h p1) (w p2) ->
// (h w) (c p1 p2)"). A pure rearrangement: backward puts each gradient back where its value came
// from. An `affine` with `per_position: true` after it is ViT's patch embedding.
// ONNX: Reshape to (N, C, H/p, p, W/p, p), Transpose (0, 2, 4, 1, 3, 5), Reshape to the sequence.
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>
#include <string>
#include <vector>

namespace lamina_patches {

using namespace lamina;

class Patches final : public Layer, public OnnxExportable {
 public:
  explicit Patches(const Config& c) : p_(c.get<std::int64_t>("size")), where_(c.where()) {}

  Shape build(const Shape& input, BuildContext&) override {
    if (input.rank() != 3) {
      throw InputError(where_ + ": patches needs samples of (channels, height, width); got " + input.str());
    }
    c_ = input[0];
    h_ = input[1];
    w_ = input[2];
    if (h_ % p_ != 0 || w_ % p_ != 0) {
      throw InputError(where_ + ": patches of " + std::to_string(p_) + " x " + std::to_string(p_) +
                       " do not tile an image of " + std::to_string(h_) + " x " + std::to_string(w_));
    }
    return Shape{(h_ / p_) * (w_ / p_), c_ * p_ * p_};
  }

  void forward(const Tensor& x, Tensor& y, Context&) override {
    y.resize(Shape{x.rows(), (h_ / p_) * (w_ / p_), c_ * p_ * p_});
    walk(x.rows(), [&](std::int64_t image, std::int64_t patch) { y[patch] = x[image]; });
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (!ctx.need_input_grad) return;
    dx.resize(Shape{dy.rows(), c_, h_, w_});
    walk(dy.rows(), [&](std::int64_t image, std::int64_t patch) { dx[image] = dy[patch]; });
  }

  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    const std::vector<std::int64_t> grid{-1, c_, h_ / p_, p_, w_ / p_, p_}, perm{0, 2, 4, 1, 3, 5},
        seq{-1, (h_ / p_) * (w_ / p_), c_ * p_ * p_};
    const std::string split = g.node("Reshape", {in[0].name, g.constant_ints("grid", grid)});
    return g.node("Reshape", {g.node("Transpose", {split}, {{"perm", perm}}), g.constant_ints("sequence", seq)});
  }

 private:
  // f(index in the image batch, index in the patch batch) for every value: each is visited once.
  template <class F>
  void walk(std::int64_t n, F&& f) const {
    const std::int64_t gh = h_ / p_, gw = w_ / p_, per_image = c_ * h_ * w_;
    std::int64_t out = 0;
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t py = 0; py < gh; ++py) {
        for (std::int64_t px = 0; px < gw; ++px) {
          for (std::int64_t c = 0; c < c_; ++c) {
            for (std::int64_t dy = 0; dy < p_; ++dy) {
              const std::int64_t row = s * per_image + (c * h_ + py * p_ + dy) * w_ + px * p_;
              for (std::int64_t dx = 0; dx < p_; ++dx) f(row + dx, out++);
            }
          }
        }
      }
    }
  }

  std::int64_t p_;
  std::string where_;
  std::int64_t c_ = 0, h_ = 0, w_ = 0;
};

void register_types(Registrar& r) {
  r.add<Layer>("patches", "a (C, H, W) image as the sequence of its p x p patches, (H W / p^2, C p^2): ViT's input",
               {Key::integer("size", "the patches' side p; it must divide the height and the width")
                    .required()
                    .at_least(1)
                    .at_most(4096)},
               [](const Config& c) { return std::make_unique<Patches>(c); });
}

}  // namespace lamina_patches

LAMINA_PLUGIN("patches", LAMINA_VERSION_STRING, "Image patches as a sequence (vision transformers)", lamina_patches::register_types)
