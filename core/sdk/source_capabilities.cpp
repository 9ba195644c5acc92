// The key functions of the data sources' capabilities: their type_info lives here, in
// liblamina_sdk, so the host's dynamic_cast finds them in a source made by any plugin.
#include "lamina/source_state.hpp"
#include "lamina/tokenizer.hpp"

namespace lamina {

Tokenizer::~Tokenizer() = default;
SourceState::~SourceState() = default;

}  // namespace lamina
