// `lamina plugins`, `plugins info`, help and version.
#define BOOST_TEST_MODULE cli_plugins
#include <pwd.h>

#include <boost/test/unit_test.hpp>
#include <lamina/abi.hpp>

#include <grp.h>

#include "test_support.hpp"

using namespace lamina::test;

BOOST_AUTO_TEST_CASE(lists_every_kind_type_and_origin) {
  const auto r = run_lamina("plugins");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  for (const char* s : {"layers:", "losses:", "optimizers:", "initializers:", "affine", "relu", "sigmoid", "tanh",
                        "softmax_cross_entropy", "sgd", "he", "xavier", "normal", "lamina_affine.so"}) {
    BOOST_TEST(r.output.find(s) != std::string::npos, s);
  }
}

BOOST_AUTO_TEST_CASE(info_shows_keys_types_defaults_and_docs) {
  const auto r = run_lamina("plugins info affine");
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("layer affine") != std::string::npos);
  BOOST_TEST(r.output.find("units") != std::string::npos);
  BOOST_TEST(r.output.find("(required)") != std::string::npos);
  BOOST_TEST(r.output.find("= he") != std::string::npos);
  BOOST_TEST(r.output.find("= true") != std::string::npos);
  const auto bad = run_lamina("plugins info afine");
  BOOST_TEST(bad.status == 2);
  BOOST_TEST(bad.output.find("no type named 'afine' (did you mean 'affine'?)") != std::string::npos, bad.output);
}

BOOST_AUTO_TEST_CASE(plugin_dir_adds_types) {
  const auto r = run_lamina("plugins --plugin-dir " + (kFixturePluginDir / "second_valid").string());
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.output.find("scale2") != std::string::npos);
  BOOST_TEST(r.output.find("second_valid 2.3.4") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_and_version) {
  const auto h = run_lamina("--help");
  BOOST_TEST(h.status == 0);
  BOOST_TEST(h.output.find("train MODEL.yaml") != std::string::npos);
  const auto th = run_lamina("train --help");
  BOOST_TEST(th.status == 0);
  for (const char* flag : {"--epochs", "--out", "--threads", "--seed", "--plugin-dir", "--set"}) {
    BOOST_TEST(th.output.find(flag) != std::string::npos, flag);
  }
  BOOST_TEST(run_lamina("help plugins").output.find("--plugin-dir") != std::string::npos);
  // Every command the usage lists has its help, both ways (one table drives all of them).
  for (const char* cmd : {"train", "eval", "predict", "export", "dump", "search", "check", "plugins", "plot", "graph", "serve", "help"}) {
    BOOST_TEST(h.output.find(std::string("\n  ") + cmd) != std::string::npos, cmd);
    const auto a = run_lamina(std::string("help ") + cmd);
    const auto b = run_lamina(std::string(cmd) + " --help");
    BOOST_TEST(a.status == 0, cmd << ": " << a.output);
    BOOST_TEST(a.output == b.output, cmd);
    BOOST_TEST(a.output.starts_with(std::string("lamina ") + cmd), cmd);
  }
  const auto unknown = run_lamina("frobnicate");
  BOOST_TEST(unknown.status == 2);
  BOOST_TEST(unknown.output.find("commands: train, eval, predict, export, dump, search, check, plugins, plot, graph, serve, help") !=
                 std::string::npos,
             unknown.output);
  const auto v = run_lamina("--version");
  BOOST_TEST(v.status == 0);
  BOOST_TEST(v.output.find(std::string("plugin ABI ") + std::to_string(lamina::kAbiVersion)) != std::string::npos);
  BOOST_TEST(run_lamina("").status == 2);
}

namespace {

// A copy of the second_valid fixture plugin in a folder of its own, for changing modes.
struct PluginCopy {
  TempDir dir;
  fs::path folder = dir / "plugins";
  fs::path file = folder / "lamina_fixture_second_valid.so";
  PluginCopy() {
    fs::create_directory(folder);
    fs::permissions(folder, fs::perms(0755));
    fs::copy_file(kFixturePluginDir / "second_valid" / "lamina_fixture_second_valid.so", file);
    fs::permissions(file, fs::perms(0755));
  }
  CommandResult list(const std::string& flags = "") const {
    return run_lamina("plugins --plugin-dir " + folder.string() + " " + flags);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(plugins_that_others_can_write_are_refused_unless_allowed) {
  PluginCopy p;
  BOOST_TEST(p.list().status == 0);

  fs::permissions(p.folder, fs::perms(0777));
  auto r = p.list();
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(r.output == "lamina plugins: error: " + p.folder.string() +
                             ": refusing to load plugins: the folder is writable by every user (mode 0777), so others "
                             "could make Lamina run their code; `chmod go-w " +
                             p.folder.string() + "` (or pass --allow-writable-plugins)\n");
  r = p.list("--allow-writable-plugins");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(r.output.find("scale2") != std::string::npos);

  fs::permissions(p.folder, fs::perms(0755));
  fs::permissions(p.file, fs::perms(0666));
  r = p.list();
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find(p.file.string() + ": refusing to load plugins: the file is writable by every user (mode "
                                             "0666)") != std::string::npos,
             r.output);

  // Group-writable is refused unless the group is the owner's own (a user-private group).
  fs::permissions(p.file, fs::perms(0775));
  if (::getgrnam("users") != nullptr && ::chown(p.file.c_str(), ::geteuid(), ::getgrnam("users")->gr_gid) == 0) {
    r = p.list();
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.output.find("the file is writable by group users (mode 0775)") != std::string::npos, r.output);
  }
  // The same refusal holds for a folder named in LAMINA_PLUGIN_PATH.
  fs::permissions(p.file, fs::perms(0755));
  fs::permissions(p.folder, fs::perms(0757));
  r = run("LAMINA_PLUGIN_PATH=" + p.folder.string() + " " + kLamina.string() + " plugins");
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find("the folder is writable by every user (mode 0757)") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(a_plugin_owned_by_another_user_is_refused) {
  // Needs root to give a file away, as the suite is run (README, CI).
  BOOST_TEST_REQUIRE(::geteuid() == 0u, "run the suite as root (README): giving a file to another user needs it");
  PluginCopy p;
  const passwd* nobody = ::getpwnam("nobody");
  BOOST_TEST_REQUIRE(nobody != nullptr);
  BOOST_TEST_REQUIRE(::chown(p.file.c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
  auto r = p.list();
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(r.output.find(p.file.string() + ": refusing to load plugins: the file is owned by nobody (uid " +
                           std::to_string(nobody->pw_uid) + "), neither you nor root") != std::string::npos,
             r.output);
  // The folder too.
  BOOST_TEST_REQUIRE(::chown(p.file.c_str(), 0, 0) == 0);
  BOOST_TEST_REQUIRE(::chown(p.folder.c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
  r = p.list();
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(r.output.find(p.folder.string() + ": refusing to load plugins: the folder is owned by nobody") !=
                 std::string::npos,
             r.output);
  BOOST_TEST_REQUIRE(::chown(p.folder.c_str(), 0, 0) == 0);  // so that TempDir can remove it
  BOOST_TEST(p.list().status == 0);
}

BOOST_AUTO_TEST_CASE(verbose_shows_where_each_plugin_came_from) {
  PluginCopy p;
  const auto ok = run("LAMINA_PLUGIN_PATH=" + p.folder.string() + " " + kLamina.string() + " plugins --verbose");
  BOOST_TEST_REQUIRE(ok.status == 0, ok.output);
  BOOST_TEST(ok.output.find("  affine 0.1.0  ") != std::string::npos, ok.output);
  BOOST_TEST(ok.output.find("    file " + (kPluginDir / "lamina_affine.so").string() + " (owner ") !=
             std::string::npos);
  BOOST_TEST(ok.output.find("    from the built-in folder\n    built against Lamina " LAMINA_VERSION_STRING
                            "\n    types: affine\n") != std::string::npos,
             ok.output);
  BOOST_TEST(ok.output.find("    file " + p.file.string() + " (owner ") != std::string::npos);
  BOOST_TEST(ok.output.find(", mode 0755)\n    from the LAMINA_PLUGIN_PATH\n    built against Lamina " LAMINA_VERSION_STRING
                            "\n    types: explode, scale2\n") !=
                 std::string::npos,
             ok.output);
  const auto flag = run_lamina("plugins -v --plugin-dir " + p.folder.string());
  BOOST_TEST(flag.output.find("from the --plugin-dir\n") != std::string::npos, flag.output);
}
