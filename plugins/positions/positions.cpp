// Where each step of a (T, D) sequence is, added to its vector (attention alone cannot tell):
//   positional_embedding  y[t] = x[t] + P[t], P (T, D) learned (GPT-2, BERT), initialized by
//                         `init` (normal, std 0.02 by default, GPT-2's); not decayed.
//   sinusoidal_positions  y[t] = x[t] + PE[t], fixed (Vaswani et al. 2017, section 3.5):
//                         PE[t, 2i] = sin(t / base^(2i/D)),  PE[t, 2i+1] = cos(t / base^(2i/D))
// Both need samples of (T, D) and change no shape; backward passes dy through (dP = the sum of dy
// over the batch). ONNX: an Add of the constant (T, D), broadcast over the batch.
#include <cmath>
#include <lamina/eigen.hpp>
#include <lamina/initializer.hpp>
#include <lamina/layer.hpp>
#include <lamina/onnx.hpp>
#include <lamina/plugin.hpp>
#include <string>
#include <vector>

namespace lamina_positions {

using namespace lamina;

// The rule both share: y = x + table, broadcast over the batch.
class AddTable : public Layer, public OnnxExportable {
 public:
  explicit AddTable(std::string where) : where_(std::move(where)) {}

  void forward(const Tensor& x, Tensor& y, Context&) override {
    const std::int64_t n = x.rows(), per = table().size();
    y.resize(x.shape());
    matrix(y, n, per) = matrix(x, n, per).rowwise() + matrix(table(), 1, per).row(0);
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    if (Param* p = learned()) {
      const std::int64_t per = p->value.size();
      matrix(p->grad, 1, per).row(0) = matrix(dy, dy.rows(), per).colwise().sum();
    }
    if (ctx.need_input_grad) dx.copy_from(dy);
  }

  std::string export_onnx(OnnxGraph& g, std::span<const OnnxValue> in) const override {
    return g.node("Add", {in[0].name, g.constant(learned_name(), table())});
  }

 protected:
  // (T, D) from a sample's shape, or an InputError naming the layer.
  Shape sequence_shape(const Shape& input, const std::string& type) const {
    if (input.rank() != 2) {
      throw InputError(where_ + ": " + type + " needs samples of (T, D), a sequence of vectors; got " + input.str());
    }
    return input;
  }
  virtual const Tensor& table() const = 0;
  virtual Param* learned() { return nullptr; }
  virtual const char* learned_name() const = 0;
  std::string where_;
};

class Learned final : public AddTable {
 public:
  explicit Learned(const Config& c) : AddTable(c.where()), init_(c.make<Initializer>("init")) {}

  Shape build(const Shape& input, BuildContext& ctx) override {
    const Shape s = sequence_shape(input, "positional_embedding");
    params_.clear();
    params_.push_back({"P", Tensor(s), Tensor(s), false});
    init_->fill(params_[0].value, s[1], s[1], *ctx.rng);
    return input;
  }
  std::span<Param> params() override { return params_; }

 private:
  const Tensor& table() const override { return params_[0].value; }
  Param* learned() override { return &params_[0]; }
  const char* learned_name() const override { return "P"; }
  std::unique_ptr<Initializer> init_;
  std::vector<Param> params_;
};

class Sinusoidal final : public AddTable {
 public:
  explicit Sinusoidal(const Config& c) : AddTable(c.where()), base_(c.get<double>("base")) {}

  Shape build(const Shape& input, BuildContext&) override {
    const Shape s = sequence_shape(input, "sinusoidal_positions");
    pe_.resize(s);
    const std::int64_t T = s[0], D = s[1];
    for (std::int64_t t = 0; t < T; ++t) {
      for (std::int64_t j = 0; j < D; ++j) {
        const double angle = static_cast<double>(t) / std::pow(base_, static_cast<double>(j - j % 2) / static_cast<double>(D));
        pe_[t * D + j] = static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
      }
    }
    return input;
  }

 private:
  const Tensor& table() const override { return pe_; }
  const char* learned_name() const override { return "PE"; }
  double base_;
  Tensor pe_;
};

void register_types(Registrar& r) {
  r.add<Layer>("positional_embedding", "adds a learned vector per position to (T, D) samples (GPT-2, BERT)",
               {Key::component("init", Kind::Initializer, "the table's initializer").def("{type: normal, std: 0.02}")},
               [](const Config& c) { return std::make_unique<Learned>(c); });
  r.add<Layer>("sinusoidal_positions", "adds the fixed sine/cosine position code of Vaswani et al. 2017 to (T, D) samples",
               {Key::number("base", "the wavelengths' geometric base (10000 in the paper)").def(10000.0).above(1)},
               [](const Config& c) { return std::make_unique<Sinusoidal>(c); });
}

}  // namespace lamina_positions

LAMINA_PLUGIN("positions", LAMINA_VERSION_STRING, "Position codes for sequences: learned and sinusoidal",
              lamina_positions::register_types)
