// The gradient checker must fail a wrong backward, or every plugin test that relies on it
// would pass vacuously.
#define BOOST_TEST_MODULE gradcheck
#include <boost/test/unit_test.hpp>
#include <lamina/eigen.hpp>
#include <lamina/gradcheck.hpp>

using namespace lamina;

namespace {

// y = x * w (element-wise, w learnable); `wrong` halves the input gradient.
class Scale final : public Layer {
 public:
  explicit Scale(bool wrong_input, bool wrong_param) : wrong_input_(wrong_input), wrong_param_(wrong_param) {}
  Shape build(const Shape& in, BuildContext&) override {
    params_.clear();
    params_.push_back({"w", Tensor(in), Tensor(in), true});
    params_[0].value.fill(0.7f);
    return in;
  }
  void forward(const Tensor& x, Tensor& y, Context&) override {
    x_ = &x;
    y.resize(x.shape());
    auto w = matrix(params_[0].value, 1, x.cols());
    matrix(y) = matrix(x).array().rowwise() * w.row(0).array();
  }
  void backward(const Tensor& dy, Tensor& dx, Context&) override {
    auto w = matrix(params_[0].value, 1, dy.cols());
    dx.resize(dy.shape());
    matrix(dx) = matrix(dy).array().rowwise() * w.row(0).array();
    if (wrong_input_) array(dx) *= 0.5f;
    matrix(params_[0].grad, 1, dy.cols()) = (matrix(dy).array() * matrix(*x_).array()).colwise().sum();
    if (wrong_param_) array(params_[0].grad) += 0.1f;
  }
  std::span<Param> params() override { return params_; }

 private:
  bool wrong_input_, wrong_param_;
  std::vector<Param> params_;
  const Tensor* x_ = nullptr;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_correct_layer_passes) {
  Scale layer(false, false);
  for (const auto& r : check_layer_gradients(layer, Shape{5}, {})) {
    BOOST_TEST(r.ok, r.tensor << " error " << r.max_error);
    BOOST_TEST(r.checked > 0);
  }
}

BOOST_AUTO_TEST_CASE(a_wrong_input_gradient_fails) {
  Scale layer(true, false);
  const auto results = check_layer_gradients(layer, Shape{5}, {});
  BOOST_TEST(results[0].tensor == "input");
  BOOST_TEST(!results[0].ok);
  BOOST_TEST(results[0].max_error > 0.3);
  BOOST_TEST(results[1].ok);
}

BOOST_AUTO_TEST_CASE(a_wrong_parameter_gradient_fails) {
  Scale layer(false, true);
  const auto results = check_layer_gradients(layer, Shape{5}, {});
  BOOST_TEST(results[0].ok);
  BOOST_TEST(results[1].tensor == "w");
  BOOST_TEST(!results[1].ok);
}
