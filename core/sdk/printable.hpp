// Text from a user's file, made safe to print in a one-line message: control characters and
// bytes that are not printable ASCII appear as \xNN, and long text is cut.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace lamina::detail {

inline std::string printable(std::string_view text, std::size_t max = 60) {
  std::string out;
  for (char ch : text.substr(0, max)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace lamina::detail
