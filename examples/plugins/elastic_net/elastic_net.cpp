// Elastic net (Zou & Hastie 2005): penalty = l1 * sum |W| + 0.5 * l2 * sum W^2,
// gradient l1 * sign(W) + l2 * W, on the parameters marked `decay`. A third-party regularizer:
// it includes only <lamina/...> headers and links only lamina::core.
#include <lamina/eigen.hpp>
#include <lamina/plugin.hpp>
#include <lamina/regularizer.hpp>

namespace elastic_net {

class ElasticNet final : public lamina::Regularizer {
 public:
  explicit ElasticNet(const lamina::Config& c) : l1_(c.get<float>("l1")), l2_(c.get<float>("l2")) {}

  float penalty(const lamina::Param& p) const override {
    const auto w = lamina::array(p.value).cast<double>();
    return static_cast<float>(l1_ * w.abs().sum() + 0.5 * l2_ * w.square().sum());
  }

  void add_gradient(lamina::Param& p) const override {
    lamina::array(p.grad) += l1_ * lamina::array(p.value).sign() + l2_ * lamina::array(p.value);
  }

 private:
  float l1_, l2_;
};

void register_types(lamina::Registrar& r) {
  r.add<lamina::Regularizer>("elastic_net", "l1 * sum |W| + 0.5 * l2 * sum W^2",
                             {lamina::Key::number("l1", "L1 strength").def(1e-5).at_least(0),
                              lamina::Key::number("l2", "L2 strength").def(1e-4).at_least(0)},
                             [](const lamina::Config& c) { return std::make_unique<ElasticNet>(c); });
}

}  // namespace elastic_net

LAMINA_PLUGIN("elastic_net", "1.0.0", "Elastic-net penalty (example plugin)", elastic_net::register_types)
