// The bad-input corpus (tests/bad-inputs/*.yaml): each case runs one lamina command in a fresh
// folder and must print exactly its message, exit with its status, and leave every file of the
// folder as it was (no half-written run, checkpoint or journal). docs/errors.md lists the cases;
// a check here keeps the two in step.
#include <sys/stat.h>

#include <yaml-cpp/yaml.h>
#include <boost/test/unit_test.hpp>
#include <lamina/abi.hpp>
#include <map>

#include "test_support.hpp"

using namespace lamina::test;
namespace utf = boost::unit_test;

namespace {

const fs::path kCorpus = fs::path(LAMINA_TEST_SOURCE_DIR) / "tests" / "bad-inputs";

// The model most cases break in one place: it trains on the tiny IDX pair copied beside it.
const std::string kGoodModel =
    "data: {source: idx, train_images: img, train_labels: lab, test_images: img, test_labels: lab}\n"
    "layers:\n"
    "  - {type: affine, units: 3}\n"
    "loss: softmax_cross_entropy\n"
    "optimizer: sgd\n"
    "train: {epochs: 1, batch_size: 2}\n";

// The case's own folder, for messages that name absolute paths.
fs::path case_dir;

// The binary's own build fingerprint, as `lamina --version` prints it ("plugin ABI 5, FP)"): this
// driver may be compiled with other flags than the binary (without the sanitizers, under
// LAMINA_SANITIZE), so its own kFingerprint is not the binary's.
std::string binary_fingerprint() {
  static const std::string fp = [] {
    const std::string v = run_lamina("--version").output;
    const auto from = v.find(", ");
    const auto to = v.rfind(')');
    return from == std::string::npos || to == std::string::npos ? v : v.substr(from + 2, to - from - 2);
  }();
  return fp;
}

std::string substitute(std::string text) {
  const std::pair<std::string, std::string> vars[] = {
      {"{dir}", case_dir.string()},       {"{fixtures}", kFixturePluginDir.string()},
      {"{plugins}", kPluginDir.string()}, {"{fingerprint}", binary_fingerprint()},
      {"{data}", kDataDir.string()},      {"{lamina}", kLamina.string()},
      {"{source}", std::string(LAMINA_TEST_SOURCE_DIR)},
      {"{abi}", std::to_string(lamina::kAbiVersion)}, {"{abi+1}", std::to_string(lamina::kAbiVersion + 1)},
      {"{abi-1}", std::to_string(lamina::kAbiVersion - 1)}};
  for (const auto& [name, value] : vars) {
    for (auto p = text.find(name); p != std::string::npos; p = text.find(name, p + value.size())) {
      text.replace(p, name.size(), value);
    }
  }
  return text;
}

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    i += 2;
  }
  return bytes;
}

// Writes one entry of a case's `files:` (see tests/bad-inputs/README.md for the forms).
void make_file(const fs::path& dir, const std::string& name, const YAML::Node& spec) {
  const fs::path path = dir / name;
  fs::create_directories(path.parent_path());
  if (spec.IsScalar()) {
    write_file(path, substitute(spec.as<std::string>()));
    return;
  }
  if (spec["mkdir"]) {
    fs::create_directories(path);
  } else if (spec["remove"]) {
    fs::remove(path);
  } else if (spec["fifo"]) {
    fs::remove(path);
    BOOST_TEST_REQUIRE(::mkfifo(path.c_str(), 0644) == 0, "mkfifo " << path);
  } else {
    std::string bytes;
    if (spec["copy"]) bytes = read_file(dir / substitute(spec["copy"].as<std::string>()));
    if (spec["text"]) bytes = substitute(spec["text"].as<std::string>());
    if (spec["hex"]) bytes = from_hex(spec["hex"].as<std::string>());
    if (spec["truncate"]) {
      const long n = spec["truncate"].as<long>();
      bytes.resize(n >= 0 ? static_cast<std::size_t>(n) : bytes.size() - static_cast<std::size_t>(-n));
    }
    if (spec["patch"]) {
      const std::string with = from_hex(spec["patch"]["hex"].as<std::string>());
      bytes.replace(spec["patch"]["at"].as<std::size_t>(), with.size(), with);
    }
    if (spec["replace"]) {
      const auto what = spec["replace"][0].as<std::string>(), with = substitute(spec["replace"][1].as<std::string>());
      const auto at = bytes.find(what);
      BOOST_TEST_REQUIRE(at != std::string::npos, "replace: '" << what << "' not in " << name);
      bytes.replace(at, what.size(), with);
    }
    if (spec["append"]) bytes += substitute(spec["append"].as<std::string>());
    if (spec["repeat"]) {
      for (int k = 0; k < spec["repeat"][1].as<int>(); ++k) bytes += spec["repeat"][0].as<std::string>();
    }
    if (spec["then"]) bytes += substitute(spec["then"].as<std::string>());
    write_file(path, bytes);
  }
  if (spec["mode"])
    fs::permissions(path, static_cast<fs::perms>(std::stoi(spec["mode"].as<std::string>(), nullptr, 8)));
}

// Every file and folder below `dir` with its mode and bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    std::string entry = std::to_string(st.st_mode) + ":";
    if (it->is_regular_file() && (st.st_mode & S_IRUSR)) entry += read_file(it->path());
    if (it->is_directory() && (st.st_mode & S_IXUSR) == 0) it.disable_recursion_pending();
    files[fs::relative(it->path(), dir).string()] = entry;
  }
  return files;
}

void run_case(const YAML::Node& c) {
  TempDir dir;
  write_file(dir / "good.yaml", kGoodModel);
  fs::copy_file(kDataDir / "tiny-images-idx3-ubyte", dir / "img");
  fs::copy_file(kDataDir / "tiny-labels-idx1-ubyte", dir / "lab");
  fs::copy_file(kDataDir / "tiny.csv", dir / "data.csv");
  case_dir = dir.path();
  const std::string cd = "cd " + dir.path().string() + " && ";
  for (const auto& f : c["given"]) make_file(dir.path(), f.first.as<std::string>(), f.second);
  for (const auto& step : c["setup"]) {
    const auto r = run(cd + kLamina.string() + " " + substitute(step.as<std::string>()));
    BOOST_TEST_REQUIRE(r.status == 0, "setup `" << step.as<std::string>() << "` failed: " << r.output);
  }
  for (const auto& f : c["files"]) make_file(dir.path(), f.first.as<std::string>(), f.second);

  const auto before = snapshot(dir.path());
  const auto r = run(
      cd + substitute(c["shell"] ? c["shell"].as<std::string>() : kLamina.string() + " " + c["run"].as<std::string>()));
  const int status = c["status"] ? c["status"].as<int>() : 2;
  BOOST_TEST(r.status == status, "exit status " << r.status << ", output: " << r.output);
  if (c["message"]) {
    const std::string expected = substitute(c["message"].as<std::string>()) + "\n";
    if (c["message_last_line"]) {
      // Commands that report progress before the failure: the failure is the last line.
      BOOST_TEST(r.output.ends_with("\n" + expected), r.output);
    } else {
      BOOST_TEST(r.output == expected);
    }
  }
  for (const auto& part : c["contains"]) {
    BOOST_TEST(r.output.find(substitute(part.as<std::string>())) != std::string::npos,
               "expected '" << part.as<std::string>() << "' in: " << r.output);
  }
  if (status != 0) {
    // A refused input changes nothing: no run folder, no half-written file, no deleted one.
    const auto after = snapshot(dir.path());
    for (const auto& [name, content] : after) {
      BOOST_TEST(before.count(name) == 1u, "left behind: " << name);
    }
    for (const auto& [name, content] : before) {
      BOOST_TEST((after.count(name) == 1u && after.at(name) == content), "changed or removed: " << name);
    }
  }
  // Modes a case set (unreadable files) would stop TempDir from cleaning up.
  for (auto& e : fs::recursive_directory_iterator(dir.path()))
    fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add);
}

std::vector<std::string> corpus_files() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kCorpus)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::size_t total_cases = 0;

void corpus_has_enough_cases_and_docs_list_them_all() {
  BOOST_TEST(total_cases >= 60u);
  const std::string doc = read_file(fs::path(LAMINA_TEST_SOURCE_DIR) / "docs" / "errors.md");
  for (const auto& file : corpus_files()) {
    for (const auto& c : YAML::LoadFile(file)) {
      const std::string id = fs::path(file).stem().string() + "/" + c["name"].as<std::string>();
      BOOST_TEST(doc.find("`" + id + "`") != std::string::npos, "docs/errors.md does not list " << id);
    }
  }
}

bool init_corpus() {
  for (const auto& file : corpus_files()) {
    const std::string category = fs::path(file).stem().string();
    auto* suite = BOOST_TEST_SUITE(category);
    for (const auto& c : YAML::LoadFile(file)) {
      const auto name = c["name"].as<std::string>();
      suite->add(utf::make_test_case([c] { run_case(c); }, name, file, c.Mark().line + 1));
      ++total_cases;
    }
    utf::framework::master_test_suite().add(suite);
  }
  utf::framework::master_test_suite().add(BOOST_TEST_CASE(&corpus_has_enough_cases_and_docs_list_them_all));
  return true;
}

}  // namespace

int main(int argc, char* argv[]) { return utf::unit_test_main(&init_corpus, argc, argv); }
