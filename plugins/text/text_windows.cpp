#include "text_windows.hpp"

#include <fmt/format.h>
#include <lamina/error.hpp>

#include <fstream>
#include <iterator>

namespace lamina_text {

using lamina::InputError;

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the text file", file.string()));
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw InputError(fmt::format("{}: cannot read the text file", file.string()));
  if (bytes.empty()) throw InputError(fmt::format("{}: the text file is empty", file.string()));
  return bytes;
}

std::vector<std::int32_t> read_byte_tokens(const std::filesystem::path& file) {
  const std::string bytes = read_text(file);
  std::vector<std::int32_t> tokens(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) tokens[i] = static_cast<unsigned char>(bytes[i]);
  return tokens;
}

Windows cut_windows(std::span<const std::int32_t> tokens, std::int64_t length, std::int64_t stride,
                    const std::string& origin, const std::string& where) {
  const auto n = static_cast<std::int64_t>(tokens.size());
  if (n < length + 1) {
    throw InputError(fmt::format("{}: length {} is longer than the text of {}: it holds {} tokens, and a window "
                                 "of {} needs {} (its targets are the tokens that follow)",
                                 where, length, origin, n, length, length + 1));
  }
  Windows w;
  w.count = (n - length - 1) / stride + 1;
  // 2^28 tokens (1 GiB of ids and targets): a stride far below the length over a long text.
  constexpr std::int64_t kMaxTokens = std::int64_t{1} << 28;
  if (w.count > kMaxTokens / length) {
    throw InputError(fmt::format("{}: {} windows of {} tokens from {} are more than 2^28 tokens; use a larger stride",
                                 where, w.count, length, origin));
  }
  w.ids.resize(static_cast<std::size_t>(w.count * length));
  w.next.resize(w.ids.size());
  for (std::int64_t i = 0; i < w.count; ++i) {
    const auto from = tokens.begin() + i * stride;
    std::copy(from, from + length, w.ids.begin() + i * length);
    std::copy(from + 1, from + length + 1, w.next.begin() + i * length);
  }
  return w;
}

}  // namespace lamina_text
