// embedding: (T) token ids to (T, D) vectors, row id of a learned table W (vocabulary, D):
//   forward  y[t] = W[id[t]]
//   backward dW[v] = the sum of dy[t] over every position whose id is v; ids have no gradient
//            (dx, when asked for, is zero).
// The ids come from Context::input_ids when the data are token ids (exact beyond 2^24); an
// embedding later in a network, or a source of float values, gives them as the input's values,
// which must then be whole numbers. An id outside the vocabulary is refused with its sample and
// position. W is initialized by `init` (normal, std 0.02 by default, GPT-2's) and not decayed
// (minGPT and most recipes exclude embeddings from weight decay).
#include <cmath>
#include <cstdio>
#include <lamina/eigen.hpp>
#include <lamina/initializer.hpp>
#include <lamina/layer.hpp>
#include <lamina/plugin.hpp>
#include <string>
#include <vector>

namespace lamina_embedding {

using namespace lamina;

// 2^28 floats = 1 GiB: a table beyond it is a typo (vocabulary: 1e9), refused before allocating.
constexpr std::int64_t kMaxWeights = std::int64_t{1} << 28;

class Embedding final : public Layer {
 public:
  explicit Embedding(const Config& c)
      : vocabulary_(c.get<std::int64_t>("vocabulary")),
        dim_(c.get<std::int64_t>("dim")),
        init_(c.make<Initializer>("init")),
        where_(c.where()) {
    if (vocabulary_ * dim_ > kMaxWeights) {
      c.fail("dim", "makes a table of " + std::to_string(vocabulary_) + " x " + std::to_string(dim_) +
                        " weights, more than 2^28 (1 GiB)");
    }
  }

  Shape build(const Shape& input, BuildContext& ctx) override {
    if (input.rank() != 1) {
      throw InputError(where_ + ": embedding takes samples of (T) token ids; got " + input.str());
    }
    t_ = input[0];
    params_.clear();
    params_.push_back({"W", Tensor(Shape{vocabulary_, dim_}), Tensor(Shape{vocabulary_, dim_}), false});
    init_->fill(params_[0].value, dim_, dim_, *ctx.rng);
    return Shape{t_, dim_};
  }

  void forward(const Tensor& x, Tensor& y, Context& ctx) override {
    const std::int64_t n = x.rows(), count = n * t_;
    ids_.resize(static_cast<std::size_t>(count));
    const bool given = static_cast<std::int64_t>(ctx.input_ids.size()) == count;
    for (std::int64_t i = 0; i < count; ++i) {
      const double v = given ? static_cast<double>(ctx.input_ids[static_cast<std::size_t>(i)]) : x[i];
      if (!(v >= 0 && v < static_cast<double>(vocabulary_)) || v != std::floor(v)) {
        throw InputError(where_ + ": embedding: input " + describe(v) + " at sample " + std::to_string(i / t_) +
                         ", position " + std::to_string(i % t_) + " is not a token id of the vocabulary 0.." +
                         std::to_string(vocabulary_ - 1));
      }
      ids_[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(v);
    }
    y.resize(Shape{n, t_, dim_});
    const auto W = matrix(params_[0].value);
    auto Y = matrix(y, count, dim_);
    for (std::int64_t i = 0; i < count; ++i) Y.row(i) = W.row(ids_[static_cast<std::size_t>(i)]);
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    const std::int64_t count = static_cast<std::int64_t>(ids_.size());
    auto dW = matrix(params_[0].grad);
    dW.setZero();
    const auto DY = matrix(dy, count, dim_);
    for (std::int64_t i = 0; i < count; ++i) dW.row(ids_[static_cast<std::size_t>(i)]) += DY.row(i);
    if (ctx.need_input_grad) {
      dx.resize(Shape{dy.rows(), t_});
      dx.zero();
    }
  }

  std::span<Param> params() override { return params_; }

 private:
  static std::string describe(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
  }

  std::int64_t vocabulary_, dim_;
  std::unique_ptr<Initializer> init_;
  std::string where_;
  std::int64_t t_ = 0;
  std::vector<Param> params_;
  std::vector<std::int32_t> ids_;
};

void register_types(Registrar& r) {
  r.add<Layer>("embedding", "(T) token ids to (T, D) vectors: a learned row per id",
               {Key::integer("vocabulary", "the number of ids: 0 .. vocabulary-1").required().at_least(1).at_most(1 << 24),
                Key::integer("dim", "the vector's size D").required().at_least(1).at_most(1 << 16),
                Key::component("init", Kind::Initializer, "the table's initializer").def("{type: normal, std: 0.02}")},
               [](const Config& c) { return std::make_unique<Embedding>(c); });
}

}  // namespace lamina_embedding

LAMINA_PLUGIN("embedding", LAMINA_VERSION_STRING, "Token embeddings", lamina_embedding::register_types)
