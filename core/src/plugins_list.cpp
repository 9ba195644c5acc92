// `lamina plugins` and `lamina plugins info TYPE`: what the loaded plugins provide.
#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <ostream>

#include "runtime/commands.hpp"
#include "runtime/dataset.hpp"
#include "runtime/plugin_loader.hpp"
#include "session.hpp"
#include "suggest.hpp"

namespace lamina {

namespace {

// Where each plugin came from, for judging what code a run executes.
void print_plugin_origins(const PluginLoader& loader, const Registry& registry, std::ostream& out) {
  out << "plugins, in load order:\n";
  for (const auto& p : loader.loaded()) {
    struct stat st {};
    std::string owner = "?", mode = "?";
    if (::stat(p.file.c_str(), &st) == 0) {
      const passwd* pw = ::getpwuid(st.st_uid);
      owner = pw ? pw->pw_name : std::to_string(st.st_uid);
      mode = fmt::format("{:04o}", static_cast<unsigned>(st.st_mode & 07777));
    }
    std::string types;
    for (const auto* t : registry.list()) {
      if (t->provider.file == p.file.string()) types += (types.empty() ? "" : ", ") + t->name;
    }
    out << fmt::format(
        "  {} {}  {}\n    file {} (owner {}, mode {})\n    from the {}\n    built against Lamina {}\n    types: {}\n",
        p.name, p.version, p.description, p.file.string(), owner, mode, p.origin, p.lamina_version, types);
  }
}

}  // namespace

void run_plugins(const PluginsRequest& req, std::ostream& out) {
  detail::Session session(req.plugins);
  session.load();
  Registry& registry = session.registry;
  PluginLoader& loader = session.loader;
  if (req.type.empty()) {
    std::size_t w = 4;
    for (const auto* t : registry.list()) w = std::max(w, t->name.size());
    // Merges are written in `layers:`: listed right after the layers.
    std::vector<Kind> order;
    for (Kind kind : kAllKinds) {
      if (kind == Kind::Merge) continue;
      order.push_back(kind);
      if (kind == Kind::Layer) order.push_back(Kind::Merge);
    }
    for (Kind kind : order) {
      bool header = false;
      for (const auto* t : registry.list()) {
        if (t->kind != kind) continue;
        if (!header)
          out << fmt::format("{}:\n", kind == Kind::Loss     ? std::string("losses")
                                      : kind == Kind::Merge  ? std::string("merges (layers with several inputs)")
                                                             : std::string(kind_name(kind)) + "s");
        header = true;
        out << fmt::format("  {:<{}}  {}  [{} {}, {}]\n", t->name, w, t->summary, t->provider.plugin,
                           t->provider.version, t->provider.file);
      }
    }
    if (req.verbose) print_plugin_origins(loader, registry, out);
    out << fmt::format("{} plugins loaded; `lamina plugins info TYPE` shows a type's keys\n", loader.loaded().size());
    return;
  }
  const auto found = registry.find_all(req.type);
  if (found.empty()) {
    std::vector<std::string> all;
    for (const auto* t : registry.list()) all.push_back(t->name);
    throw InputError(fmt::format("no type named '{}'{}; `lamina plugins` lists them", req.type,
                                 detail::did_you_mean(req.type, all)));
  }
  for (const auto* t : found) {
    out << fmt::format("{} {} — {}\n  from plugin {} {} ({})\n", kind_name(t->kind), t->name, t->summary,
                       t->provider.plugin, t->provider.version, t->provider.file);
    if (t->keys.empty()) out << "  keys: none\n";
    for (const auto& k : t->keys) {
      out << fmt::format("  {:<14} {:<9} {:<12} {}\n", k.name(), key_type_name(k.type()),
                         k.is_required()    ? "(required)"
                         : k.default_text() ? "= " + *k.default_text()
                                            : "(optional)",
                         k.doc());
      out << fmt::format("  {:<14} {:<9} {:<12} expects {}\n", "", "", "", k.expectation());
    }
    if (t->kind == Kind::DataSource) {
      out << fmt::format("  and, as every data source under `data:`, {} (README, YAML reference)\n",
                         detail::join(shared_data_keys()));
    }
    if (t->kind == Kind::Layer || t->kind == Kind::Merge) {
      out << fmt::format("  and, as every entry of `layers:`, name, inputs{} and regularizer (README, \"Layers: "
                         "names and inputs\")\n",
                         t->kind == Kind::Merge ? " (required: the layers it merges)" : "");
    }
  }
}

}  // namespace lamina
