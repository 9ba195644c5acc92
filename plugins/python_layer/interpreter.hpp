// The one CPython interpreter of the process, for the python layer.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

namespace lamina_python_layer {

// Makes sure an interpreter runs, and returns with the GIL NOT held by the caller's thread:
// inside python3 it is the running interpreter; inside the `lamina` command the first call
// starts one (no signal handlers of its own: Ctrl-C stays the trainer's) and keeps it to the
// process's end — a finalized interpreter cannot be started again, and numpy cannot be
// imported twice.
void ensure_interpreter();

// The pending Python exception as one line, "ValueError: operands could not be broadcast ...",
// followed by the innermost frame of the user's code ("(my_layers.py:12)") when there is one.
// Needs the GIL.
std::string describe(pybind11::error_already_set& e);

}  // namespace lamina_python_layer
