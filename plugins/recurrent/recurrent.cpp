// The recurrent plugin: the lstm and gru layers (lstm.cpp, gru.cpp), which share the shapes,
// weight gradients and ONNX form of recurrent_common.hpp.
#include <lamina/plugin.hpp>

#include "recurrent_common.hpp"

namespace lamina_recurrent {

void register_types(Registrar& r) {
  register_lstm(r);
  register_gru(r);
}

}  // namespace lamina_recurrent

LAMINA_PLUGIN("recurrent", LAMINA_VERSION_STRING, "Recurrent layers: LSTM and GRU", lamina_recurrent::register_types)
