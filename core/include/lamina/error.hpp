// Lamina's error types. Two kinds reach the user, with different exit statuses:
//   InputError — something the user gave us is wrong (YAML, data, flags, plugin files): exit 2.
//   Error      — a failure while doing valid work (NaN loss, disk full): exit 1.
// Every message names the place (file:line:column, key, plugin file) and what was wrong.
// Plugins throw these too; anything else a plugin throws is wrapped into an Error naming it.
#pragma once

#include <stdexcept>
#include <string>

#include "lamina/export.hpp"

namespace lamina {

class LAMINA_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~Error() override;  // out of line: one type identity, in the core
};

class LAMINA_API InputError : public Error {
 public:
  using Error::Error;
  ~InputError() override;
};

}  // namespace lamina
