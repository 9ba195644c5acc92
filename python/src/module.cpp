// The compiled half of `import lamina` (python/lamina/__init__.py is the other): the commands'
// library calls (runtime/commands.hpp) and the embedding API (lamina/embed.hpp) with NumPy
// arrays in and out. Training and prediction run without the GIL; a Python callback takes it
// back for the call alone. Every Lamina error becomes lamina.InputError (bad input, exit 2 in
// the CLI) or lamina.Error, with the CLI's message.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>

#include "lamina/embed.hpp"
#include "lamina/error.hpp"
#include "lamina/kind.hpp"
#include "runtime/commands.hpp"
#include "runtime/search.hpp"
#include "runtime/safetensors.hpp"
#include "runtime/trainer.hpp"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace {

using Array = py::array_t<float, py::array::c_style | py::array::forcecast>;

lamina::Tensor to_tensor(const Array& a) {
  if (a.ndim() < 1 || a.ndim() > lamina::Shape::kMaxRank + 1) {
    throw lamina::InputError("an input array has " + std::to_string(a.ndim()) + " dimensions; a batch has 2 to " +
                             std::to_string(lamina::Shape::kMaxRank + 1) + " (N x the sample's shape)");
  }
  std::vector<std::int64_t> dims(a.shape(), a.shape() + a.ndim());
  lamina::Tensor t(lamina::Shape::from(dims));
  if (t.size() > 0) std::memcpy(t.data(), a.data(), static_cast<std::size_t>(t.size()) * sizeof(float));
  return t;
}

Array to_array(const lamina::Tensor& t) {
  std::vector<py::ssize_t> dims;
  for (int i = 0; i < t.rank(); ++i) dims.push_back(t.dim(i));
  Array a(dims);
  if (t.size() > 0) std::memcpy(a.mutable_data(), t.data(), static_cast<std::size_t>(t.size()) * sizeof(float));
  return a;
}

py::dict epoch_dict(const lamina::EpochMetrics& m) {
  py::dict d;
  d["epoch"] = m.epoch;
  d["train_loss"] = m.train.loss;
  for (const auto& [name, v] : m.train.metrics) d[py::str("train_" + name)] = v;
  if (m.validation) {
    d["val_loss"] = m.validation->loss;
    for (const auto& [name, v] : m.validation->metrics) d[py::str("val_" + name)] = v;
  }
  d["test_loss"] = m.test.loss;
  for (const auto& [name, v] : m.test.metrics) d[py::str("test_" + name)] = v;
  d["seconds"] = m.seconds;
  return d;
}

// on_epoch=callback: called with the epoch's measures as a dict; returning True stops the run
// after that epoch (as Ctrl-C does). An exception in it stops the run too and is raised again
// once the run folder is consistent.
class PythonObserver final : public lamina::TrainObserver {
 public:
  explicit PythonObserver(py::object callback) : callback_(std::move(callback)) {}
  ~PythonObserver() override {
    py::gil_scoped_acquire gil;
    callback_ = py::object();
  }
  void on_epoch(const lamina::EpochMetrics& m) override {
    if (callback_.is_none() || stop_) return;
    py::gil_scoped_acquire gil;
    try {
      const py::object answer = callback_(epoch_dict(m));
      stop_ = py::isinstance<py::bool_>(answer) && answer.cast<bool>();
    } catch (py::error_already_set& e) {
      error_ = std::move(e);
      stop_ = true;
    }
  }
  bool should_stop() override { return stop_; }
  void rethrow() {
    if (error_) {
      py::gil_scoped_acquire gil;
      std::optional<py::error_already_set> e = std::move(error_);
      error_.reset();
      throw *e;
    }
  }

 private:
  py::object callback_;
  bool stop_ = false;
  std::optional<py::error_already_set> error_;
};

// Where the commands print: the process's stdout, or nowhere.
struct Output {
  explicit Output(bool quiet) : out(quiet ? &sink : &std::cout) {}
  std::ostringstream sink;
  std::ostream* out;
};

py::dict train(const fs::path& model, std::optional<std::string> model_text, const std::vector<std::string>& overrides,
               std::optional<fs::path> out,
               std::optional<std::int64_t> epochs, std::optional<std::int64_t> seed, std::optional<int> threads,
               std::optional<fs::path> resume, py::object on_epoch, bool quiet) {
  lamina::TrainRequest req;
  req.model = model;
  req.model_text = std::move(model_text);
  req.overrides = overrides;
  req.out = std::move(out);
  req.epochs = epochs;
  req.seed = seed;
  req.threads = threads;
  req.resume = std::move(resume);
  req.progress = false;
  PythonObserver observer(std::move(on_epoch));
  req.observer = &observer;
  Output o(quiet);
  lamina::TrainResult result;
  {
    py::gil_scoped_release nogil;  // Ctrl-C meanwhile: the runtime's handler stops at a batch
    result = lamina::run_train(req, *o.out);
  }
  observer.rethrow();
  py::dict d;
  d["run_dir"] = result.run_dir;
  d["interrupted"] = result.interrupted;
  d["stopped"] = observer.should_stop();
  d["epochs"] = result.epochs.size();
  return d;
}

py::dict search(const fs::path& file, std::optional<fs::path> out, std::optional<int> workers, bool quiet) {
  lamina::SearchRequest req;
  req.file = file;
  req.out = std::move(out);
  req.workers = workers;
  req.progress = false;
  Output o(quiet);
  lamina::SearchResult r;
  {
    py::gil_scoped_release nogil;
    r = lamina::run_search(req, *o.out);
  }
  py::dict d;
  d["dir"] = r.dir;
  d["interrupted"] = r.interrupted;
  d["trials_run"] = r.trials_run;
  d["trials_finished"] = r.trials_finished;
  return d;
}

// `lamina check TYPE --set ...`: the report as the command prints it, and whether all passed.
py::tuple check(const std::string& type, const std::vector<std::string>& overrides, const std::vector<std::int64_t>& shape,
                std::int64_t batch, std::uint64_t seed) {
  lamina::CheckRequest req;
  req.type = type;
  req.overrides = overrides;
  if (shape.empty() || shape.size() > static_cast<std::size_t>(lamina::Shape::kMaxRank)) {
    throw lamina::InputError("input_shape has " + std::to_string(shape.size()) + " sizes; it has 1 to " +
                             std::to_string(lamina::Shape::kMaxRank));
  }
  req.input_shape = lamina::Shape::from(shape);
  req.batch = batch;
  req.seed = seed;
  std::ostringstream out;
  bool passed = false;
  {
    py::gil_scoped_release nogil;  // a python layer takes it back for each call
    passed = lamina::run_check(req, out);
  }
  return py::make_tuple(passed, out.str());
}

py::dict weights(const fs::path& file) {
  const lamina::SafetensorsFile f = lamina::read_safetensors(file);
  py::dict d;
  for (const auto& [name, t] : f.tensors) d[py::str(name)] = to_array(t);
  return d;
}

}  // namespace

PYBIND11_MODULE(_lamina, m) {
  m.doc() = "Lamina's compiled core; use the lamina package";
  static py::exception<lamina::Error> error(m, "Error");
  static py::exception<lamina::InputError> input_error(m, "InputError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const lamina::InputError& e) {
      input_error(e.what());
    } catch (const lamina::Error& e) {
      error(e.what());
    }
  });

  m.def("train", &train, py::arg("model"), py::arg("model_text"), py::arg("overrides"), py::arg("out"), py::arg("epochs"), py::arg("seed"),
        py::arg("threads"), py::arg("resume"), py::arg("on_epoch"), py::arg("quiet"));
  m.def("search", &search, py::arg("file"), py::arg("out"), py::arg("workers"), py::arg("quiet"));
  m.def("read_weights", &weights, py::arg("file"));
  m.def("check", &check, py::arg("type"), py::arg("overrides"), py::arg("input_shape"), py::arg("batch"), py::arg("seed"));

  py::class_<lamina::embed::Host>(m, "Host")
      .def(py::init([](std::vector<fs::path> dirs) {
             lamina::embed::HostOptions o;
             o.plugin_dirs = std::move(dirs);
             return lamina::embed::Host(o);
           }),
           py::arg("plugin_dirs") = std::vector<fs::path>{})
      .def("plugins",
           [](const lamina::embed::Host& h) {
             py::list out;
             for (const auto& p : h.plugins()) out.append(py::dict(py::arg("name") = p.name, py::arg("version") = p.version, py::arg("file") = p.file));
             return out;
           })
      .def("types",
           [](const lamina::embed::Host& h) {
             py::list out;
             for (const auto& t : h.types()) {
               out.append(py::dict(py::arg("kind") = std::string(lamina::kind_name(t.kind)), py::arg("name") = t.name,
                                   py::arg("summary") = t.summary, py::arg("plugin") = t.plugin));
             }
             return out;
           })
      .def("load_run", [](const lamina::embed::Host& h, const fs::path& dir) { return h.load_run(dir); });

  py::class_<lamina::embed::Model>(m, "Model")
      .def_property_readonly("input_scale", &lamina::embed::Model::input_scale)
      .def_property_readonly("classes", &lamina::embed::Model::classes)
      .def_property_readonly("sample_shape",
                             [](const lamina::embed::Model& model) {
                               std::vector<std::int64_t> dims;
                               for (int i = 0; i < model.sample_shape().rank(); ++i) dims.push_back(model.sample_shape()[i]);
                               return dims;
                             })
      .def("scores",
           [](lamina::embed::Model& model, const Array& x) {
             lamina::Tensor t = to_tensor(x);
             lamina::Tensor s;
             {
               py::gil_scoped_release nogil;
               for (auto& v : t.values()) v *= model.input_scale();
               s = model.scores(t);
             }
             return to_array(s);
           })
      .def("predict", [](lamina::embed::Model& model, const Array& x) {
        lamina::Tensor t = to_tensor(x);
        lamina::Tensor p;
        {
          py::gil_scoped_release nogil;
          p = model.predict_raw(t);
        }
        return to_array(p);
      });
}
