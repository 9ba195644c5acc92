#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "lamina/error.hpp"

namespace lamina::detail {

namespace {

[[noreturn]] void fail_write(const std::filesystem::path& file, int err) {
  throw Error(fmt::format("{}: cannot write: {}", file.string(), std::strerror(err)));
}

// Writes all of `content`; with `sync`, fsyncs it too (a pipe or a device cannot be).
void write_all(int fd, std::string_view content, const std::filesystem::path& file, bool sync = true) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t w = ::write(fd, content.data() + done, content.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail_write(file, err);
    }
    done += static_cast<std::size_t>(w);
  }
  // fsync before the file gets a name: otherwise a crash can leave the name pointing at empty data.
  if (sync && ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail_write(file, err);
  }
}

}  // namespace

std::filesystem::path temp_name(const std::filesystem::path& file) {
  return file.parent_path() / fmt::format(".{}.{}.tmp", file.filename().string(), ::getpid());
}

void write_file_atomic(const std::filesystem::path& file, std::string_view content) {
  const std::filesystem::path tmp = temp_name(file);
  std::filesystem::path folder = file.parent_path();
  if (folder.empty()) folder = ".";
  // An unnamed O_TMPFILE gets a name only once complete, so a kill never leaves half a file under
  // any name; where the file system lacks O_TMPFILE, a named temporary stands in.
  int fd = ::open(folder.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    write_all(fd, content, file);
    ::unlink(tmp.c_str());  // a complete leftover of a killed process with our pid
    const std::string proc = fmt::format("/proc/self/fd/{}", fd);
    const bool linked = ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) == 0;
    const int err = errno;
    ::close(fd);
    if (!linked) fail_write(file, err);
  } else {
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail_write(file, errno);
    try {
      write_all(fd, content, file);
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
    if (::close(fd) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      fail_write(file, err);
    }
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_write(file, err);
  }
}

void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_write(folder, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail_write(folder, err);
}

void remove_temporaries(const std::filesystem::path& folder) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 5 && name.front() == '.' && name.ends_with(".tmp")) std::filesystem::remove(entry.path(), ec);
  }
}

std::filesystem::path check_output_file(const std::filesystem::path& file, std::string_view flag) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target = file;
  // A link is followed to the file it names (which may not exist yet), as an editor does.
  for (int hops = 0; fs::is_symlink(target, ec); ++hops) {
    const fs::path to = fs::read_symlink(target, ec);
    if (ec || hops == 40) {
      throw InputError(fmt::format("{} {}: a symbolic link that cannot be followed{}", flag, file.string(),
                                   ec ? ": " + ec.message() : std::string(" (a loop)")));
    }
    target = to.is_absolute() ? to : target.parent_path() / to;
  }
  const fs::file_status st = fs::status(target, ec);
  switch (st.type()) {
    case fs::file_type::not_found:
    case fs::file_type::regular:
    case fs::file_type::fifo:
    case fs::file_type::character:
      break;
    case fs::file_type::directory:
      throw InputError(fmt::format("{} {}: is a directory; name the file to write", flag, file.string()));
    default:
      throw InputError(fmt::format("{} {}: is neither a regular file, a pipe nor a character device; name a file to "
                                   "write",
                                   flag, file.string()));
  }
  fs::path folder = target.parent_path();
  if (folder.empty()) folder = ".";
  if (st.type() == fs::file_type::not_found && !fs::is_directory(folder, ec)) {
    throw InputError(fmt::format("{} {}: the folder {} does not exist", flag, file.string(), folder.string()));
  }
  return target;
}

void write_output_file(const std::filesystem::path& file, std::string_view content, std::string_view flag) {
  namespace fs = std::filesystem;
  const fs::path target = check_output_file(file, flag);
  std::error_code ec;
  const fs::file_type type = fs::status(target, ec).type();
  if (type != fs::file_type::fifo && type != fs::file_type::character) {
    write_file_atomic(target, content);
    return;
  }
  // A pipe or a device: renaming over it would replace it (as root, --out /dev/null would
  // replace the system's); it is written as it is.
  const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) fail_write(file, errno);
  write_all(fd, content, file, false);
  ::close(fd);
}

std::string read_whole_file(const std::filesystem::path& file, std::string_view what, std::uintmax_t cap) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw InputError(fmt::format("{}: cannot read {}: it is a directory", file.string(), what));
  }
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type is judged on what was opened.
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("{}: cannot read {}: {}", file.string(), what, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(fmt::format("{}: cannot read {}: not a regular file (a pipe or a device)", file.string(), what));
  }
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  if (size > cap) {
    ::close(fd);
    throw InputError(
        fmt::format("{}: cannot read {}: {} bytes is more than such a file holds (limit {})", file.string(), what, size, cap));
  }
  std::string bytes(static_cast<std::size_t>(size), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t r = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      ::close(fd);
      throw InputError(fmt::format("{}: cannot read {}: {}", file.string(), what, std::strerror(err)));
    }
    if (r == 0) break;  // shrank while read
    done += static_cast<std::size_t>(r);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

}  // namespace lamina::detail
