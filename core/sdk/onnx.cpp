// The key function of OnnxExportable: its type_info lives here, in liblamina_sdk, so the host's
// dynamic_cast finds the interface in a layer made by any plugin.
#include "lamina/onnx.hpp"

namespace lamina {

OnnxExportable::~OnnxExportable() = default;

}  // namespace lamina
