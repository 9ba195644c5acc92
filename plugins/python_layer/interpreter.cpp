#include "interpreter.hpp"

#include <dlfcn.h>
#include <pybind11/embed.h>

#include <mutex>

namespace py = pybind11;

namespace lamina_python_layer {

namespace {

// The plugin is loaded RTLD_LOCAL, and so is libpython with it: then the extension modules
// Python itself loads (numpy's _multiarray_umath), which take the C API from the process's
// global scope, would not find it. Reopening libpython RTLD_GLOBAL publishes its symbols (the
// same as linking it into the executable). RTLD_NODELETE on this plugin keeps its code mapped
// after the loader's dlclose: objects made here (numpy arrays' bases) may be freed by Python
// after that.
void publish_libpython() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&Py_IsInitialized), &info) != 0 && info.dli_fname != nullptr) {
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
  }
}

void pin_this_plugin() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&pin_this_plugin), &info) != 0 && info.dli_fname != nullptr) {
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE | RTLD_NOLOAD);
  }
}

}  // namespace

void ensure_interpreter() {
  static std::once_flag once;
  std::call_once(once, [] {
    pin_this_plugin();
    if (Py_IsInitialized() != 0) return;  // inside python3: its GIL is its own business
    publish_libpython();
    py::initialize_interpreter(/*init_signal_handlers=*/false);
    // Give the GIL away: every call into Python takes it for the call alone, from whichever
    // thread the trainer runs it on.
    PyEval_SaveThread();
  });
}

std::string describe(py::error_already_set& e) {
  std::string text;
  try {
    text = py::str(e.type().attr("__name__")).cast<std::string>();
    const std::string value = py::str(e.value()).cast<std::string>();
    if (!value.empty()) text += ": " + value;
    // The innermost frame: where the user's code raised.
    py::object tb = py::reinterpret_borrow<py::object>(e.trace());
    std::string where;
    while (tb && !tb.is_none()) {
      const py::object frame = tb.attr("tb_frame");
      const std::string file = py::str(frame.attr("f_code").attr("co_filename")).cast<std::string>();
      // Python's own import machinery is not where the user's mistake is (a SyntaxError names
      // the user's file and line in its message).
      if (!file.starts_with("<") && file.find("/importlib/") == std::string::npos) where = file + ":" + py::str(tb.attr("tb_lineno")).cast<std::string>();
      tb = tb.attr("tb_next");
    }
    if (!where.empty()) text += " (" + where + ")";
  } catch (const std::exception&) {
    text = e.what();
  }
  return text;
}

}  // namespace lamina_python_layer
