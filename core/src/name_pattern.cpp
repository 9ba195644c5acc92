#include "name_pattern.hpp"

#include <algorithm>
#include <charconv>

namespace lamina::detail {

bool match_name(std::string_view p, std::string_view n, std::vector<std::string>* captures) {
  // rest[i][j]: p[i..] matches n[j..]. A table, not backtracking: a pattern of many stars
  // against a long name stays O(|p| |n|) (hostile input is bounded by pattern_problem's length).
  const std::size_t P = p.size(), N = n.size();
  std::vector<char> rest((P + 1) * (N + 1), 0);
  auto at = [&](std::size_t i, std::size_t j) -> char& { return rest[i * (N + 1) + j]; };
  at(P, N) = 1;
  for (std::size_t i = P; i-- > 0;) {
    for (std::size_t j = N + 1; j-- > 0;) {
      if (p[i] == '*') {
        at(i, j) = at(i + 1, j) || (j < N && at(i, j + 1));
      } else {
        at(i, j) = j < N && p[i] == n[j] && at(i + 1, j + 1);
      }
    }
  }
  if (!at(0, 0)) return false;
  if (captures) {
    captures->clear();
    std::size_t j = 0;
    for (std::size_t i = 0; i < P; ++i) {
      if (p[i] != '*') {
        ++j;
        continue;
      }
      std::size_t k = j;
      while (!at(i + 1, k)) ++k;  // the shortest run that lets the rest match
      captures->emplace_back(n.substr(j, k - j));
      j = k;
    }
  }
  return true;
}

std::string fill_pattern(std::string_view pattern, const std::vector<std::string>& captures) {
  std::string out;
  std::size_t c = 0;
  for (char ch : pattern) {
    if (ch != '*') {
      out += ch;
    } else if (c < captures.size()) {
      out += captures[c++];
    }
  }
  return out;
}

std::string named_alias(const std::string& name, const std::vector<std::string>& layer_names) {
  constexpr std::string_view prefix = "layers.";
  if (name.rfind(prefix, 0) != 0) return "";
  const std::size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos) return "";
  std::size_t index = 0;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + dot;
  if (auto [end, ec] = std::from_chars(first, last, index); ec != std::errc() || end != last) return "";
  if (index >= layer_names.size() || layer_names[index].empty()) return "";
  return std::string(prefix) + layer_names[index] + name.substr(dot);
}

std::string pattern_problem(std::string_view pattern) {
  if (pattern.empty()) return "an empty pattern";
  if (pattern.size() > 200) return "a pattern longer than 200 characters";
  return "";
}

std::size_t wildcards(std::string_view pattern) {
  return static_cast<std::size_t>(std::count(pattern.begin(), pattern.end(), '*'));
}

}  // namespace lamina::detail
