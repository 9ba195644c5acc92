// The key function of Tokenizer: its type_info lives here, in liblamina_sdk, so the host's
// dynamic_cast finds the interface in a data source made by any plugin.
#include "lamina/tokenizer.hpp"

namespace lamina {

Tokenizer::~Tokenizer() = default;

}  // namespace lamina
