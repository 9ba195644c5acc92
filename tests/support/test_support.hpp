// Helpers shared by the suites: temporary folders, running the lamina binary, a registry with
// the built plugins loaded through the real loader, and small model files.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include "runtime/plugin_loader.hpp"
#include "runtime/registry.hpp"
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace lamina::test {

namespace fs = std::filesystem;

inline const fs::path kPluginDir = LAMINA_TEST_PLUGIN_DIR;
inline const fs::path kFixturePluginDir = LAMINA_TEST_FIXTURE_PLUGIN_DIR;
inline const fs::path kDataDir = LAMINA_TEST_DATA_DIR;
inline const fs::path kModelsDir = LAMINA_TEST_MODELS_DIR;
inline const fs::path kLamina = LAMINA_TEST_BIN;
inline const fs::path kFashionDir = "/usr/share/datasets/fashion-mnist";

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("lamina-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& file, const std::string& content) {
  std::ofstream out(file, std::ios::binary);
  out << content;
}

// A file that cannot be read fails the test at once: "two outputs are equal" must never pass
// because both are missing.
inline std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  BOOST_TEST_REQUIRE(in.is_open(), file.string() << ": missing or unreadable");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The message of the lamina::InputError that f() throws, or "(no error)".
template <class F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

// The rows of a numeric CSV with a header line (predictions: row, class, p0, p1, ...).
inline std::vector<std::vector<double>> csv_numbers(const std::string& csv) {
  std::vector<std::vector<double>> rows;
  std::stringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    std::vector<double> row;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

// `needle` occurs in `text` exactly once (find == rfind alone also holds when it is absent).
inline bool occurs_once(const std::string& text, const std::string& needle) {
  const auto first = text.find(needle);
  return first != std::string::npos && first == text.rfind(needle);
}

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing its output and exit status.
inline CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int st = ::pclose(pipe);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

inline CommandResult run_lamina(const std::string& args) { return run(kLamina.string() + " " + args); }

// A registry holding the built-in plugins, loaded through the real loader.
inline Registry& builtin_registry() {
  static Registry* registry = [] {
    auto* r = new Registry();
    PluginLoader(*r).load_directory(kPluginDir);
    return r;
  }();
  return *registry;
}

inline std::size_t count_lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace lamina::test
