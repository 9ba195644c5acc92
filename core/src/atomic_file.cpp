#include "atomic_file.hpp"

#include <fcntl.h>
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

void write_all(int fd, std::string_view content, const std::filesystem::path& file) {
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
  if (::fsync(fd) != 0) {
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

std::string read_whole_file(const std::filesystem::path& file, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw InputError(fmt::format("{}: cannot read {}: it is a directory", file.string(), what));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read {}: {}", file.string(), what, std::strerror(errno)));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace lamina::detail
