// The readers under test take file paths, as lamina does: each input is written to a file of
// this process (on tmpfs when there is one) and read back through the real code path.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace lamina::fuzz {

inline std::filesystem::path input_file(const std::string& suffix) {
  const std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
  return dir / ("lamina-fuzz-" + std::to_string(::getpid()) + suffix);
}

inline const std::filesystem::path& write_input(const std::uint8_t* data, std::size_t size,
                                                const std::string& suffix = "") {
  static const std::filesystem::path file = input_file(suffix);
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                static_cast<std::streamsize>(size));
  return file;
}

}  // namespace lamina::fuzz
