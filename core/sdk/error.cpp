#include "lamina/error.hpp"

namespace lamina {
Error::~Error() = default;
InputError::~InputError() = default;
}  // namespace lamina
