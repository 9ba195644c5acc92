// Files are written unnamed (O_TMPFILE), fsync'd, given a temporary name ".NAME.PID.tmp" in the
// same folder and renamed into place, so a killed run leaves either the previous complete
// version or the new one, never half a file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace lamina::detail {

void write_file_atomic(const std::filesystem::path& file, std::string_view content);
// The temporary name write_file_atomic uses for `file` in this process.
std::filesystem::path temp_name(const std::filesystem::path& file);
// Makes renames and creations in `folder` durable.
void sync_folder(const std::filesystem::path& folder);
// Deletes the ".NAME.PID.tmp" files a killed writer can leave in `folder` (complete, but unused).
void remove_temporaries(const std::filesystem::path& folder);

// The whole file as bytes; an InputError "FILE: cannot read WHAT: reason" when it cannot be read.
std::string read_whole_file(const std::filesystem::path& file, std::string_view what);

}  // namespace lamina::detail
