// `type: python`: a layer whose forward and backward are a Python class's methods, for trying an
// idea before writing it in C++ (docs/python.md, "Layers in Python"):
//
//   layers:
//     - {type: python, module: my_layers, class: Swish, beta: 1.5}
//
// The class is looked up in `module`, imported from `path` (the model file's folder by
// default) and made with the mapping's other keys as keyword arguments (Swish(beta=1.5)).
// Its methods, all with NumPy float32 arrays:
//   build(input_shape, rng) -> output_shape   optional (default: the input's shape); one
//                                             sample's shapes as tuples; rng a seeded
//                                             numpy.random.Generator for initialization
//   forward(x, train) -> y                    x: N x input_shape; train: True in training
//   backward(dy) -> dx                        and fills self.grads[name] for each parameter
// Parameters are the arrays of the dict `self.params` when build returns. The host copies them
// into its own tensors and gives the dict back as views of those tensors (so optimizer steps
// and checkpoint loads are what Python reads), and `self.grads` as views of the gradients;
// backward writes into them (self.grads["w"][...] = ...) or rebinds them to new arrays, which
// the host then copies. A parameter of two or more dimensions is weight-decayed, a vector not
// (Affine's rule), unless the class has `decay = {"name", ...}`.
//
// The layer is deterministic only as far as the class is: it has no random stream (dropout in
// Python would make `lamina check`'s replay fail). Every Python exception becomes an InputError
// naming the layer, the method and the user's file:line.
#include <pybind11/embed.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <vector>

#include <lamina/layer.hpp>
#include <lamina/plugin.hpp>

#include "interpreter.hpp"

namespace lamina_python_layer {

namespace py = pybind11;
using namespace lamina;

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

Schema keys() {
  return {
      Key::string("module", "the Python module holding the class (my_layers, or a dotted package.module)")
          .required(),
      Key::string("class", "the class in the module; its constructor gets the layer's other keys").required(),
      Key::path("path", "the folder put first on sys.path to import `module` from; relative to the model file")
          .def("."),
      Key::others("the layer's own keys: the class's constructor's keyword arguments (beta: 1.5 -> beta=1.5)"),
  };
}

std::vector<py::ssize_t> dims_of(const Shape& s) {
  std::vector<py::ssize_t> d;
  for (int i = 0; i < s.rank(); ++i) d.push_back(s[i]);
  return d;
}

std::string dims_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i > 0 ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

class PythonLayer final : public Layer {
 public:
  explicit PythonLayer(const Config& cfg) {
    module_ = cfg.get<std::string>("module");
    class_ = cfg.get<std::string>("class");
    name_ = module_ + "." + class_;
    // The host names the layer (layers.1) in front of what a call throws; what the constructor
    // throws it does not.
    label_ = cfg.where() + ": " + (cfg.path().empty() ? "" : cfg.path() + " ") + "(python " + name_ + ")";
    where_ = cfg.where() + ": " + name_;
    std::string folder = cfg.file("path").lexically_normal().string();
    folder = folder.empty() ? "." : std::filesystem::absolute(folder).lexically_normal().string();
    ensure_interpreter();
    py::gil_scoped_acquire gil;
    object_ = make(cfg, folder);
  }

  ~PythonLayer() override {
    if (!object_) return;
    // Python references die with the GIL held, before the tensors they view.
    py::gil_scoped_acquire gil;
    grad_views_.clear();
    // An instance the class kept elsewhere must not keep views of the freed tensors.
    try {
      if (!params_.empty()) object_.attr("params") = py::dict();
      object_.attr("grads") = py::dict();
    } catch (py::error_already_set&) {  // a class with read-only attributes: nothing to undo
    }
    object_ = py::object();
  }

  Shape build(const Shape& input, BuildContext& ctx) override {
    in_ = input;
    py::gil_scoped_acquire gil;
    try {
      const auto seed = ctx.rng != nullptr ? ctx.rng->next() : 0;
      const py::object rng = py::module_::import("numpy").attr("random").attr("default_rng")(seed);
      out_ = input;
      if (py::hasattr(object_, "build")) {
        const py::object shape = object_.attr("build")(py::tuple(py::cast(dims_of(input))), rng);
        if (!shape.is_none()) out_ = to_shape(shape, "build");
      }
      adopt_params();
    } catch (py::error_already_set& e) {
      fail("build", describe(e));
    } catch (const py::builtin_exception& e) {
      fail("build", e.what());
    }
    return out_;
  }

  void forward(const Tensor& x, Tensor& y, Context& ctx) override {
    py::gil_scoped_acquire gil;
    try {
      const py::object result = object_.attr("forward")(copy_of(x), ctx.mode == Mode::Train);
      copy_into(result, out_.batched(x.rows()), y, "forward", "y");
    } catch (py::error_already_set& e) {
      fail("forward", describe(e));
    } catch (const py::builtin_exception& e) {  // a cast pybind11 could not make
      fail("forward", e.what());
    }
  }

  void backward(const Tensor& dy, Tensor& dx, Context& ctx) override {
    py::gil_scoped_acquire gil;
    try {
      const py::object result = object_.attr("backward")(copy_of(dy));
      if (ctx.need_input_grad) copy_into(result, in_.batched(dy.rows()), dx, "backward", "dx");
      // Gradients written into the views are in place; a rebound entry is copied.
      const py::dict grads = object_.attr("grads");
      for (std::size_t i = 0; i < params_.size(); ++i) {
        // The network prefixes Param::name with the layer's place; Python knows its own names.
        Param& p = params_[i];
        const std::string& name = names_[i];
        const py::object g = grads.contains(name) ? py::object(grads[py::str(name)]) : py::object(py::none());
        if (g.is(grad_views_[i])) continue;
        if (g.is_none()) fail("backward", "self.grads has no entry '" + name + "'");
        copy_into(g, p.value.shape(), p.grad, "backward", "self.grads['" + name + "']");
        grads[py::str(name)] = grad_views_[i];
      }
    } catch (py::error_already_set& e) {
      fail("backward", describe(e));
    } catch (const py::builtin_exception& e) {  // a cast pybind11 could not make
      fail("backward", e.what());
    }
  }

  std::span<Param> params() override { return params_; }

 private:
  // The class's instance; Python objects made on the way die here, with the GIL held.
  py::object make(const Config& cfg, const std::string& folder) const {
    py::object module, object;
    try {
      py::list sys_path = py::module_::import("sys").attr("path");
      if (!sys_path.contains(py::str(folder))) sys_path.insert(0, folder);
      module = py::module_::import("importlib").attr("import_module")(module_);
    } catch (py::error_already_set& e) {
      if (e.matches(PyExc_ModuleNotFoundError)) {
        fail_init("import", py::str(e.value()).cast<std::string>() + "; looked in " + folder +
                           " (the `path` key) first, then Python's sys.path");
      }
      fail_init("import", describe(e));
    }
    try {
      if (!py::hasattr(module, class_.c_str())) {
        fail_init("import", "module " + module_ + " (" + py::str(module.attr("__file__")).cast<std::string>() +
                           ") has no class '" + class_ + "'");
      }
      const py::object kwargs = py::module_::import("json").attr("loads")(cfg.others_json());
      object = module.attr(class_.c_str())(**kwargs);
    } catch (py::error_already_set& e) {
      fail_init("__init__", describe(e));
    }
    for (const char* method : {"forward", "backward"}) {
      if (!py::hasattr(object, method)) fail_init("import", "the class has no method " + std::string(method) + "()");
    }
    return object;
  }

  [[noreturn]] void fail_init(const std::string& step, const std::string& what) const {
    throw InputError(label_ + ": " + step + ": " + what);
  }
  [[noreturn]] void fail(const std::string& method, const std::string& what) const {
    throw InputError(where_ + "." + method + ": " + what);
  }

  Shape to_shape(const py::object& value, const std::string& method) const {
    std::vector<std::int64_t> dims;
    try {
      for (const py::handle d : value) dims.push_back(py::cast<std::int64_t>(d));
    } catch (const std::exception&) {
      fail(method, "returned " + py::repr(value).cast<std::string>() + ", not a tuple of sizes");
    }
    if (dims.empty() || dims.size() > static_cast<std::size_t>(Shape::kMaxRank) ||
        std::any_of(dims.begin(), dims.end(), [](std::int64_t d) { return d < 1 || d > (std::int64_t{1} << 30); })) {
      fail(method, "returned the shape " + py::repr(value).cast<std::string>() + "; a sample's shape has 1 to " +
                       std::to_string(Shape::kMaxRank) + " sizes, each >= 1");
    }
    return Shape::from(dims);
  }

  // self.params -> host tensors; self.params and self.grads become views of them.
  void adopt_params() {
    params_.clear();
    names_.clear();
    grad_views_.clear();
    if (!py::hasattr(object_, "params")) {
      object_.attr("grads") = py::dict();
      return;
    }
    const py::object declared = object_.attr("params");
    if (!py::isinstance<py::dict>(declared)) fail("build", "self.params is not a dict of arrays");
    const py::object decay = py::hasattr(object_, "decay") ? object_.attr("decay") : py::object(py::none());
    const py::dict given = declared;
    py::dict views, grads;
    params_.reserve(given.size());
    for (const auto& [key, value] : given) {
      const std::string name = py::str(key).cast<std::string>();
      const FloatArray a = FloatArray::ensure(value);
      if (!a) PyErr_Clear();
      if (!a || a.ndim() < 1 || a.size() == 0) {
        fail("build", "self.params['" + name + "'] is not a non-empty array of numbers");
      }
      if (a.ndim() > Shape::kMaxRank) {
        fail("build", "self.params['" + name + "'] has " + std::to_string(a.ndim()) + " dimensions; a tensor has at most " +
                          std::to_string(Shape::kMaxRank));
      }
      std::vector<std::int64_t> dims(a.shape(), a.shape() + a.ndim());
      Param p;
      p.name = name;
      p.value = Tensor(Shape::from(dims));
      p.grad = Tensor(Shape::from(dims));
      std::memcpy(p.value.data(), a.data(), static_cast<std::size_t>(a.size()) * sizeof(float));
      p.decay = decay.is_none() ? a.ndim() >= 2 : decay.contains(py::str(name));
      params_.push_back(std::move(p));
      names_.push_back(name);
    }
    // Views only once the vector no longer moves: each points into its Param's storage, and
    // keeps the Python object alive as its base.
    for (std::size_t i = 0; i < params_.size(); ++i) {
      views[py::str(names_[i])] = view_of(params_[i].value);
      py::array g = view_of(params_[i].grad);
      grads[py::str(names_[i])] = g;
      grad_views_.push_back(g);
    }
    object_.attr("params") = views;
    object_.attr("grads") = grads;
  }

  // A NumPy array over the tensor's storage. Its base is an empty capsule, not the class's
  // instance: that would make a cycle (instance -> params -> array -> instance) NumPy's arrays
  // do not let the collector break.
  static py::array view_of(Tensor& t) {
    return FloatArray(dims_of(t.shape()), t.data(), py::capsule(t.data(), [](void*) {}));
  }

  // A fresh array the class may keep (for backward) as long as it likes.
  static FloatArray copy_of(const Tensor& t) {
    FloatArray a(dims_of(t.shape()));
    if (t.size() > 0) std::memcpy(a.mutable_data(), t.data(), static_cast<std::size_t>(t.size()) * sizeof(float));
    return a;
  }

  void copy_into(const py::object& value, const Shape& expected, Tensor& out, const std::string& method,
                 const std::string& what) const {
    if (value.is_none()) fail(method, "returned None; expected " + what + " of shape " + expected.str());
    const FloatArray a = FloatArray::ensure(value);
    if (!a) {
      PyErr_Clear();
      fail(method, what + " is " + py::repr(py::type::of(value)).cast<std::string>() + ", not an array of numbers");
    }
    bool same = a.ndim() == expected.rank();
    for (int i = 0; same && i < expected.rank(); ++i) same = a.shape(i) == expected[i];
    if (!same) fail(method, what + " has shape " + dims_text(a) + "; expected " + expected.str());
    out.resize(expected);
    if (out.size() > 0) std::memcpy(out.data(), a.data(), static_cast<std::size_t>(out.size()) * sizeof(float));
  }

  std::string module_, class_, name_, label_, where_;
  py::object object_;
  Shape in_, out_;
  std::vector<Param> params_;
  std::vector<std::string> names_;  // the class's names of params_, in order
  std::vector<py::object> grad_views_;
};

void register_types(Registrar& r) {
  r.add<Layer>("python", "a layer written in Python: a class with NumPy forward/backward (for prototyping)", keys(),
               [](const Config& cfg) { return std::make_unique<PythonLayer>(cfg); });
}

}  // namespace lamina_python_layer

LAMINA_PLUGIN("python_layer", LAMINA_VERSION_STRING, "Layers written in Python (an embedded CPython)",
              lamina_python_layer::register_types)
