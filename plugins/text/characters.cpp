#include "characters.hpp"

#include <fmt/format.h>
#include <lamina/error.hpp>

#include <algorithm>

namespace lamina_text {

std::vector<char32_t> decode_utf8(std::string_view text, const std::string& origin) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char b = s[i];
    int extra = 0;
    char32_t cp = 0, least = 0;
    if (b < 0x80) {
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      extra = 1, cp = b & 0x1F, least = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2, cp = b & 0x0F, least = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      extra = 3, cp = b & 0x07, least = 0x10000;
    } else {
      throw lamina::InputError(fmt::format("{}: not UTF-8 at byte {} (0x{:02x} cannot start a character); "
                                           "`tokens: bytes` reads any file",
                                           origin, i, b));
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + static_cast<std::size_t>(k) >= n || (s[i + static_cast<std::size_t>(k)] & 0xC0) != 0x80) {
        throw lamina::InputError(fmt::format("{}: not UTF-8 at byte {} (a character cut short); `tokens: bytes` reads "
                                             "any file",
                                             origin, i));
      }
      cp = (cp << 6) | (s[i + static_cast<std::size_t>(k)] & 0x3F);
    }
    if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      throw lamina::InputError(fmt::format("{}: not UTF-8 at byte {} (an overlong, surrogate or out-of-range "
                                           "sequence); `tokens: bytes` reads any file",
                                           origin, i));
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

std::string encode_utf8(std::span<const char32_t> points) {
  std::string out;
  out.reserve(points.size());
  for (const char32_t cp : points) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

Characters Characters::of(std::span<const char32_t> text) {
  Characters c;
  c.points_.assign(text.begin(), text.end());
  std::sort(c.points_.begin(), c.points_.end());
  c.points_.erase(std::unique(c.points_.begin(), c.points_.end()), c.points_.end());
  return c;
}

Characters Characters::from_state(std::string_view state, const std::string& origin) {
  Characters c;
  c.points_ = decode_utf8(state, origin);
  if (c.points_.empty() || !std::is_sorted(c.points_.begin(), c.points_.end()) ||
      std::adjacent_find(c.points_.begin(), c.points_.end()) != c.points_.end()) {
    throw lamina::InputError(origin + ": not a character vocabulary (its characters sorted, each once)");
  }
  return c;
}

std::string Characters::state() const { return encode_utf8(points_); }

std::vector<std::int32_t> Characters::ids(std::span<const char32_t> text) const {
  std::vector<std::int32_t> out(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto it = std::lower_bound(points_.begin(), points_.end(), text[i]);
    out[i] = it != points_.end() && *it == text[i] ? static_cast<std::int32_t>(it - points_.begin()) + 1 : 0;
  }
  return out;
}

std::string Characters::text(std::span<const std::int32_t> ids) const {
  std::vector<char32_t> points(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::int32_t id = ids[i];
    points[i] = id >= 1 && id <= static_cast<std::int32_t>(points_.size()) ? points_[static_cast<std::size_t>(id - 1)]
                                                                          : U'\uFFFD';
  }
  return encode_utf8(points);
}

}  // namespace lamina_text
