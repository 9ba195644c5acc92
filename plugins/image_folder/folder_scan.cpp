#include "folder_scan.hpp"

#include <fmt/format.h>
#include <lamina/error.hpp>

#include <algorithm>
#include <set>

namespace lamina_image_folder {

using lamina::InputError;
namespace fs = std::filesystem;

namespace {

constexpr int kMaxDepth = 64;

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool is_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c >> 5) == 0x6) {
      n = 1, cp = c & 0x1fu;
    } else if ((c >> 4) == 0xe) {
      n = 2, cp = c & 0x0fu;
    } else if ((c >> 3) == 0x1e) {
      n = 3, cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3fu);
    }
    const std::uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

// A path for a message: bytes that are not UTF-8 written as \xNN, so the message itself is text.
std::string printable(const fs::path& p) {
  const std::string s = p.string();
  if (is_utf8(s)) return s;
  std::string out;
  for (unsigned char c : s) out += c < 0x80 ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  return out;
}

// The entries of a folder, sorted by name, hidden ones left out; each name checked for UTF-8.
std::vector<fs::directory_entry> entries(const fs::path& dir) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw InputError(fmt::format("{}: cannot read the folder ({})", printable(dir), ec.message()));
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    if (!is_utf8(name)) {
      throw InputError(fmt::format("{}: a file name that is not UTF-8; rename it", printable(e.path())));
    }
    if (!name.empty() && name[0] == '.') continue;
    out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  return out;
}

// What an entry is, symbolic links followed; a link that loops or leads nowhere is refused.
fs::file_type type_of(const fs::directory_entry& e) {
  std::error_code ec;
  const fs::file_status st = fs::status(e.path(), ec);
  if (ec == std::errc::too_many_symbolic_link_levels) {
    throw InputError(fmt::format("{}: a symbolic link loop", printable(e.path())));
  }
  if (ec || st.type() == fs::file_type::not_found) {
    throw InputError(fmt::format("{}: a symbolic link to nothing ({})", printable(e.path()),
                                 ec ? ec.message() : "no such file"));
  }
  return st.type();
}

// Every file under `dir`, depth first in sorted order. `ancestors` holds the canonical folders
// on the way down: a link back to one of them is a loop the file system cannot see.
void collect(const fs::path& dir, const fs::path& root, std::int32_t label, std::set<fs::path>& ancestors, int depth,
             std::vector<ImageFile>& out) {
  if (depth > kMaxDepth) throw InputError(fmt::format("{}: folders nested more than {} deep", printable(dir), kMaxDepth));
  for (const auto& e : entries(dir)) {
    const fs::file_type t = type_of(e);
    if (t == fs::file_type::directory) {
      std::error_code ec;
      const fs::path real = fs::canonical(e.path(), ec);
      if (ec || ancestors.count(real)) {
        throw InputError(fmt::format("{}: a symbolic link loop (it leads back to {})", printable(e.path()),
                                     ec ? ec.message() : printable(real)));
      }
      ancestors.insert(real);
      collect(e.path(), root, label, ancestors, depth + 1, out);
      ancestors.erase(real);
    } else if (t == fs::file_type::regular) {
      out.push_back({e.path(), e.path().lexically_relative(root).string(), label});
    } else {
      throw InputError(fmt::format("{}: neither a file nor a folder", printable(e.path())));
    }
  }
}

std::set<fs::path> start(const fs::path& root) {
  std::error_code ec;
  const fs::path real = fs::canonical(root, ec);
  if (ec) throw InputError(fmt::format("{}: no such folder", printable(root)));
  return {real};
}

}  // namespace

ScannedFolder scan_classes(const fs::path& root, const std::string& key, const std::vector<std::string>* classes) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    throw InputError(fmt::format("{}: {} is not a folder (image_folder reads a folder of class folders)", printable(root),
                                 key));
  }
  std::set<fs::path> ancestors = start(root);
  ScannedFolder s;
  std::vector<fs::directory_entry> class_dirs;
  for (const auto& e : entries(root)) {
    if (type_of(e) == fs::file_type::directory) class_dirs.push_back(e);
  }
  if (class_dirs.empty()) {
    throw InputError(fmt::format("{}: no class folders ({} holds one sub-folder of images per class)", printable(root), key));
  }
  for (const auto& e : class_dirs) {
    const std::string name = e.path().filename().string();
    std::int32_t label = static_cast<std::int32_t>(s.classes.size());
    if (classes) {
      const auto it = std::find(classes->begin(), classes->end(), name);
      if (it == classes->end()) {
        throw InputError(fmt::format("{}: a class the training folder does not have (its classes: {})",
                                     printable(e.path()), fmt::join(*classes, ", ")));
      }
      label = static_cast<std::int32_t>(it - classes->begin());
    }
    s.classes.push_back(name);
    const std::size_t before = s.files.size();
    const fs::path real = fs::canonical(e.path(), ec);
    if (ancestors.count(real)) throw InputError(fmt::format("{}: a symbolic link loop", printable(e.path())));
    ancestors.insert(real);
    collect(e.path(), root, label, ancestors, 1, s.files);
    ancestors.erase(real);
    if (s.files.size() == before) throw InputError(fmt::format("{}: an empty class folder (no images)", printable(e.path())));
  }
  return s;
}

std::vector<ImageFile> scan_inputs(const fs::path& input) {
  std::error_code ec;
  std::vector<ImageFile> files;
  if (!fs::is_directory(input, ec)) {
    files.push_back({input, input.filename().string(), 0});
    return files;
  }
  std::set<fs::path> ancestors = start(input);
  collect(input, input, 0, ancestors, 0, files);
  if (files.empty()) throw InputError(fmt::format("{}: a folder with no images", printable(input)));
  return files;
}

}  // namespace lamina_image_folder
