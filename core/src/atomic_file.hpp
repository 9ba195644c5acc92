// Files are written unnamed (O_TMPFILE), fsync'd, given a temporary name ".NAME.PID.tmp" in the
// same folder and renamed into place, so a killed run leaves either the previous complete
// version or the new one, never half a file.
#pragma once

#include <cstdint>
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

// A command's --out FILE (predict, export, graph): a regular file (or a new name) is written
// atomically as above; a symbolic link is followed and its target written so; a FIFO or a
// character device (a pipe, /dev/stdout, a terminal) is written directly, never replaced by a
// regular file; anything else (a folder, a block device, a socket) is refused naming `flag`.
void write_output_file(const std::filesystem::path& file, std::string_view content, std::string_view flag);
// Refuses (as write_output_file would) before any work is done; returns the path to write.
std::filesystem::path check_output_file(const std::filesystem::path& file, std::string_view flag);

// The whole file as bytes; an InputError "FILE: cannot read WHAT: reason" when it cannot be read.
// Only a regular file is read (a FIFO or /dev/zero in a run folder would block or never end), and
// only up to `cap` bytes: a larger one is refused naming its size.
inline constexpr std::uintmax_t kNoCap = ~std::uintmax_t{0};
inline constexpr std::uintmax_t kTextCap = 64u << 20;  // model.yaml, trainer.json, metrics, journals
std::string read_whole_file(const std::filesystem::path& file, std::string_view what, std::uintmax_t cap = kNoCap);

}  // namespace lamina::detail
