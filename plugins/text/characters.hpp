// The character vocabulary of the `text` source's `tokens: characters` mode: the distinct
// Unicode code points of the training text, sorted, as ids 1..V-1; id 0 stands for a character
// the training text did not hold (read in a test text or a prompt; decoded as U+FFFD). The run
// keeps the vocabulary (lamina/source_state.hpp), so predict and generate read new text with the
// ids the model was trained on, even if the training file has changed since.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lamina_text {

// The code points of UTF-8 text. Throws InputError naming `origin` and the byte offset of the
// first sequence that is not UTF-8 (a stray byte, a truncated, overlong or surrogate sequence, a
// value above U+10FFFF).
std::vector<char32_t> decode_utf8(std::string_view text, const std::string& origin);
std::string encode_utf8(std::span<const char32_t> points);

class Characters {
 public:
  Characters() = default;
  // The vocabulary of a training text.
  static Characters of(std::span<const char32_t> text);
  // The vocabulary as state() wrote it (its characters in id order, UTF-8); InputError naming
  // `origin` when it is not such a text.
  static Characters from_state(std::string_view state, const std::string& origin);
  std::string state() const;

  std::int64_t size() const { return static_cast<std::int64_t>(points_.size()) + 1; }
  std::vector<std::int32_t> ids(std::span<const char32_t> text) const;  // unknown characters: 0
  std::string text(std::span<const std::int32_t> ids) const;

 private:
  std::vector<char32_t> points_;  // sorted, distinct: id i + 1 is points_[i]
};

}  // namespace lamina_text
