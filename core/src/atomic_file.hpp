// Files are written to a temporary name in the same folder and renamed into place, so a
// killed run leaves either the previous complete version or the new one, never half a file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace lamina::detail {

void write_file_atomic(const std::filesystem::path& file, std::string_view content);

// The whole file as bytes; an InputError "FILE: cannot read WHAT: reason" when it cannot be read.
std::string read_whole_file(const std::filesystem::path& file, std::string_view what);

}  // namespace lamina::detail
