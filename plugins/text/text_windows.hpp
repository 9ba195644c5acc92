// Text as windows of byte tokens, for the `text` data source (text.cpp) and its test.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace lamina_text {

// The bytes of a file as token ids 0..255. Byte-level tokens need no vocabulary to store: every
// byte value is one, so a run reads new text exactly as it read its training text. Throws
// InputError for a file that cannot be read or is empty.
std::vector<std::int32_t> read_byte_tokens(const std::filesystem::path& file);
// A file's bytes as they are; InputError, as above, for one that cannot be read or is empty.
std::string read_text(const std::filesystem::path& file);

// `count` windows of `length` tokens, one starting every `stride` tokens, and for each position
// the token that follows it (the target of a language model): window i is
// tokens[i*stride, i*stride + length) and its targets tokens[i*stride + 1, i*stride + length + 1).
struct Windows {
  std::int64_t count = 0;
  std::vector<std::int32_t> ids;   // count x length
  std::vector<std::int32_t> next;  // count x length
};
// Throws InputError naming `origin` and `where` (the length key's place) when the text holds
// fewer than length + 1 tokens, or the windows would hold more than 2^28 tokens.
Windows cut_windows(std::span<const std::int32_t> tokens, std::int64_t length, std::int64_t stride,
                    const std::string& origin, const std::string& where);

}  // namespace lamina_text
