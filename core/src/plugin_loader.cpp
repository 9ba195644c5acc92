#include "runtime/plugin_loader.hpp"

#include <fmt/format.h>

#include <elf.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>

#include "lamina/error.hpp"
#include "lamina/plugin.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace {

// Loaded libraries live until the process exits: factories and objects made by a plugin point
// into its code, and unloading at static-destruction time races with their destructors
// (Boost.DLL's "Missuses" page). Deliberately leaked.
std::deque<boost::dll::shared_library>& libraries() {
  static auto* libs = new std::deque<boost::dll::shared_library>();
  return *libs;
}

std::vector<fs::path> env_plugin_dirs() {
  std::vector<fs::path> dirs;
  const char* env = std::getenv("LAMINA_PLUGIN_PATH");
  if (env == nullptr) return dirs;
  std::string_view s(env);
  while (!s.empty()) {
    const auto colon = s.find(':');
    std::string_view part = s.substr(0, colon);
    if (!part.empty()) dirs.emplace_back(std::string(part));
    if (colon == std::string_view::npos) break;
    s.remove_prefix(colon + 1);
  }
  return dirs;
}

// A user-private group (named after its only member, the owner) may write: it is the owner.
bool is_owners_private_group(uid_t uid, gid_t gid) {
  const group* g = ::getgrgid(gid);
  if (g == nullptr || (g->gr_mem != nullptr && g->gr_mem[0] != nullptr)) return false;
  const std::string group_name = g->gr_name;
  const passwd* p = ::getpwuid(uid);
  return p != nullptr && group_name == p->pw_name;
}

// Why `path` could be changed by someone other than its owner or root, or "" when it cannot.
std::string loose_permissions(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";  // reported by the caller as missing
  const uid_t me = ::geteuid();
  if (st.st_uid != me && st.st_uid != 0) {
    const passwd* p = ::getpwuid(st.st_uid);
    return fmt::format("is owned by {} (uid {}), neither you nor root", p ? p->pw_name : "another user", st.st_uid);
  }
  const auto mode = static_cast<unsigned>(st.st_mode & 07777);
  if ((st.st_mode & S_IWOTH) != 0) return fmt::format("is writable by every user (mode {:04o})", mode);
  if ((st.st_mode & S_IWGRP) != 0 && !is_owners_private_group(st.st_uid, st.st_gid)) {
    const group* g = ::getgrgid(st.st_gid);
    return fmt::format("is writable by group {} (mode {:04o})", g ? g->gr_name : std::to_string(st.st_gid), mode);
  }
  return "";
}

void refuse_loose_permissions(const fs::path& path, const char* what) {
  if (const std::string why = loose_permissions(path); !why.empty()) {
    // An owner that is neither the user nor root is fixed by chown; a mode by chmod.
    const bool owner = why.starts_with("is owned by");
    throw InputError(fmt::format(
        "{}: refusing to load plugins: the {} {}, so others could make Lamina run their code; `{} {}` (or pass "
        "--allow-writable-plugins)",
        path.string(), what, why, owner ? fmt::format("chown {}", ::geteuid() == 0 ? "root" : "$USER") : "chmod go-w",
        path.string()));
  }
}

// The folders above the plugin folder, as ssh's StrictModes walks them: whoever can rename an
// entry of one of them can put another folder in the plugin folder's place. A folder others may
// write is safe only with the sticky bit (as /tmp): then they cannot rename what is not theirs.
void refuse_loose_ancestors(const fs::path& folder) {
  for (fs::path p = folder.parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & S_ISVTX) == 0) refuse_loose_permissions(p, "folder above it");
    if (p == p.parent_path()) break;
  }
}

// What the dynamic loader would map, checked against the file's size first: a plugin cut short
// (an interrupted copy, a full disk) maps pages past its end, and touching them is SIGBUS inside
// dlopen. A library of another machine is named as such (dlopen says "No such file").
void check_elf(const fs::path& path, const std::string& name) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  in.read(reinterpret_cast<char*>(&eh), sizeof eh);
  const auto got = static_cast<std::size_t>(in.gcount());
  if (got < 4 || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
    throw InputError(fmt::format("{}: not a shared library (no ELF header); a plugin folder holds only plugins", name));
  }
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  auto cut = [&](const std::string& what) {
    return InputError(fmt::format("{}: the plugin file is cut short ({} bytes, but {}); copy or install it again",
                                  name, size, what));
  };
  if (got < sizeof eh) throw cut("an ELF header alone takes 64");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64) {
    throw InputError(fmt::format("{}: a library for another kind of machine (ELF machine {}, {}-bit); this Lamina "
                                 "loads x86-64 plugins",
                                 name, eh.e_machine, eh.e_ident[EI_CLASS] == ELFCLASS64 ? 64 : 32));
  }
  if (eh.e_type != ET_DYN) throw InputError(fmt::format("{}: an ELF file but not a shared library", name));
  const std::uint64_t ph_end = eh.e_phoff + std::uint64_t{eh.e_phnum} * eh.e_phentsize;
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || ph_end > size) {
    throw cut(fmt::format("its program headers end at byte {}", ph_end));
  }
  in.seekg(static_cast<std::streamoff>(eh.e_phoff));
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) throw cut("its program headers cannot be read");
    if (ph.p_type == PT_LOAD && (ph.p_offset > size || ph.p_filesz > size - ph.p_offset)) {
      throw cut(fmt::format("segment {} ends at byte {}", i, ph.p_offset + ph.p_filesz));
    }
  }
  if (eh.e_shoff != 0 && eh.e_shoff + std::uint64_t{eh.e_shnum} * eh.e_shentsize > size) {
    throw cut(fmt::format("its section headers end at byte {}", eh.e_shoff + std::uint64_t{eh.e_shnum} * eh.e_shentsize));
  }
}

}  // namespace

// Found beside liblamina_sdk, the one shared library of every installation: the runtime itself
// is linked into programs and into liblamina_embed, wherever those are.
fs::path builtin_plugin_dir() {
  return boost::dll::symbol_location(kind_name).parent_path() / "lamina" / "plugins";
}

void PluginLoader::load_file(const fs::path& file, const std::string& origin) {
  std::error_code ec;
  const fs::path path = fs::weakly_canonical(file, ec);
  const std::string name = path.string();
  for (const auto& p : loaded_) {
    if (p.file == path) return;  // listed twice on the search path
  }
  if (!fs::is_regular_file(path, ec)) {
    throw InputError(fmt::format("{}: plugin file does not exist or is not a regular file", name));
  }
  if (!options_.allow_writable) {
    refuse_loose_ancestors(path.parent_path());
    refuse_loose_permissions(path.parent_path(), "folder");
    refuse_loose_permissions(path, "file");
  }

  check_elf(path, name);
  boost::dll::shared_library lib;
  try {
    // rtld_now: a missing symbol is reported here, naming the file, not at the first call.
    lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: cannot load as a shared library: {}", name, e.what()));
  }
  if (!lib.has(LAMINA_PLUGIN_ENTRY_SYMBOL)) {
    throw InputError(
        fmt::format("{}: not a Lamina plugin (it exports no '{}'; plugins are declared "
                    "with LAMINA_PLUGIN in <lamina/plugin.hpp>)",
                    name, LAMINA_PLUGIN_ENTRY_SYMBOL));
  }
  const lamina_plugin_info* info = lib.get<const lamina_plugin_info*()>(LAMINA_PLUGIN_ENTRY_SYMBOL)();
  if (info == nullptr) throw InputError(fmt::format("{}: plugin entry returned no info record", name));
  if (info->abi_version != kAbiVersion) {
    // One line that says which way it is off and what to do: the usual case is a plugin built
    // before an upgrade (docs/writing-plugins.md, "Compatibility").
    throw InputError(fmt::format("{}: plugin built for plugin ABI {}, {} this Lamina's ABI {}; rebuild it against "
                                 "this Lamina's SDK ({})",
                                 name, info->abi_version, info->abi_version < kAbiVersion ? "older than" : "newer than",
                                 kAbiVersion, LAMINA_VERSION_STRING));
  }
  if (info->info_size != sizeof(lamina_plugin_info) || info->fingerprint == nullptr ||
      std::strcmp(info->fingerprint, kFingerprint) != 0) {
    throw InputError(
        fmt::format("{}: plugin was built as '{}' but this Lamina as '{}'; rebuild the plugin "
                    "with the same compiler and C++ library against this Lamina",
                    name, info->fingerprint ? info->fingerprint : "(none)", kFingerprint));
  }
  if (info->name == nullptr || info->version == nullptr || info->register_types == nullptr) {
    throw InputError(fmt::format("{}: plugin info record is incomplete", name));
  }

  // What the registration function adds is staged and committed only once it returned: a
  // plugin that throws halfway leaves no entry whose factory points into its code.
  Registry::Staging staging(registry_, {info->name, info->version, name});
  try {
    info->register_types(staging);
  } catch (const std::exception& e) {
    // A new exception, not a rethrow: the object thrown may be of a class of the plugin's,
    // whose code is unloaded (with `lib`) while the exception travels on. A bad plugin file is
    // bad input (exit 2), named unless the message (the registry's own checks) already does.
    const std::string what = e.what();
    if (what.find(name) != std::string::npos) throw InputError(what);
    throw InputError(fmt::format("{}: plugin '{}' failed to register its types: {}", name, info->name, what));
  } catch (...) {
    throw InputError(fmt::format("{}: plugin '{}' failed to register its types (it threw something that is not a "
                                 "std::exception)",
                                 name, info->name));
  }
  staging.commit();
  loaded_.push_back({info->name, info->version, info->description ? info->description : "",
                     info->lamina_version ? info->lamina_version : "", path, origin});
  libraries().push_back(std::move(lib));
}

void PluginLoader::load_directory(const fs::path& dir, const std::string& origin) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError(fmt::format("{}: plugin folder does not exist or is not a directory", dir.string()));
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".so") files.push_back(entry.path());
  }
  if (ec) throw InputError(fmt::format("{}: cannot list plugin folder: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  for (const auto& f : files) load_file(f, origin);
}

void PluginLoader::load_search_path() {
  std::error_code ec;
  if (const fs::path builtin = builtin_plugin_dir(); fs::is_directory(builtin, ec)) {
    load_directory(builtin, "built-in folder");
  }
  for (const auto& dir : env_plugin_dirs()) {
    if (!fs::is_directory(dir, ec)) {
      throw InputError(fmt::format("LAMINA_PLUGIN_PATH names '{}', which is not a directory", dir.string()));
    }
    load_directory(dir, "LAMINA_PLUGIN_PATH");
  }
  for (const auto& dir : options_.dirs) load_directory(dir, "--plugin-dir");
}

}  // namespace lamina
