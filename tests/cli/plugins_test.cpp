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
  BOOST_TEST(unknown.output.find("commands: train, eval, predict, generate, export, dump, search, check, plugins, plot, graph, serve, help") !=
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
  // The fix for an owner is chown, not chmod.
  BOOST_TEST(r.output.find("`chown root " + p.file.string() + "`") != std::string::npos, r.output);
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

// As ssh's StrictModes: a folder above the plugin folder that others may write lets them put
// another folder in its place, unless its sticky bit keeps them from renaming what is not theirs.
BOOST_AUTO_TEST_CASE(a_folder_above_the_plugin_folder_that_others_can_write_is_refused) {
  TempDir dir;
  const fs::path above = dir.path() / "shared";
  const fs::path folder = above / "plugins";
  fs::create_directories(folder);
  fs::copy_file(kFixturePluginDir / "second_valid" / "lamina_fixture_second_valid.so",
                folder / "lamina_fixture_second_valid.so");
  fs::permissions(folder, fs::perms(0755));
  fs::permissions(above, fs::perms(0777));
  auto r = run_lamina("plugins --plugin-dir " + folder.string());
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(r.output == "lamina plugins: error: " + fs::canonical(above).string() +
                             ": refusing to load plugins: the folder above it is writable by every user (mode 0777), "
                             "so others could make Lamina run their code; `chmod go-w " +
                             fs::canonical(above).string() + "` (or pass --allow-writable-plugins)\n",
             r.output);
  fs::permissions(above, fs::perms(01777));  // sticky: others cannot rename the plugin folder
  r = run_lamina("plugins --plugin-dir " + folder.string());
  BOOST_TEST(r.status == 0, r.output);
  fs::permissions(above, fs::perms(0755));
}

// A plugin cut short (an interrupted copy) is refused from its ELF headers before dlopen maps
// pages past its end (SIGBUS); a library of another machine is named as such.
BOOST_AUTO_TEST_CASE(a_plugin_cut_short_or_for_another_machine_is_refused_by_name) {
  TempDir dir;
  const fs::path folder = dir.path() / "plugins";
  fs::create_directories(folder);
  const fs::path so = folder / "lamina_fixture_second_valid.so";
  const std::string whole = read_file(kFixturePluginDir / "second_valid" / "lamina_fixture_second_valid.so");
  for (const std::size_t keep : {std::size_t{40}, std::size_t{2000}, whole.size() / 2, whole.size() - 100}) {
    write_file(so, whole.substr(0, keep));
    const auto r = run_lamina("plugins --plugin-dir " + folder.string());
    BOOST_TEST(r.status == 2, keep << ": " << r.output);
    BOOST_TEST(r.output.find(fs::canonical(so).string() + ": the plugin file is cut short (" + std::to_string(keep) +
                             " bytes") != std::string::npos,
               keep << ": " << r.output);
  }
  std::string arm = whole;
  arm[18] = static_cast<char>(183);  // e_machine: EM_AARCH64
  arm[19] = 0;
  write_file(so, arm);
  const auto r = run_lamina("plugins --plugin-dir " + folder.string());
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(r.output.find("a library for another kind of machine (ELF machine 183, 64-bit)") != std::string::npos,
             r.output);
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

// One policy for every kind (runtime/plugin_guard.hpp): a plugin's InputError is bad input in its
// own words; a lamina::Error, a std::exception or something that is no exception class at all is
// a plugin fault naming the place, type, plugin, file and method. Both exit 2, from every kind.
BOOST_AUTO_TEST_CASE(every_kind_reports_what_its_plugin_throws_alike) {
  TempDir dir;
  fs::copy_file(kDataDir / "tiny-images-idx3-ubyte", dir.path() / "img");
  fs::copy_file(kDataDir / "tiny-labels-idx1-ubyte", dir.path() / "lab");
  const fs::path plugins = kFixturePluginDir / "faulty";
  const std::string file = fs::weakly_canonical(plugins / "lamina_fixture_faulty.so").string();
  struct Kind {
    const char* type;
    const char* place;
    const char* method;
    std::string (*model)(const std::string& faulty);
  };
  const std::string data = "data: {source: idx, train_images: img, train_labels: lab, test_images: img, "
                           "test_labels: lab}\n";
  static std::string base;
  base = data;
  const Kind kinds[] = {
      {"faulty_layer", "layers.0", "forward",
       [](const std::string& f) {
         return base + "layers: [" + f + ", {type: affine, units: 3}]\nloss: softmax_cross_entropy\noptimizer: sgd\n";
       }},
      {"faulty_loss", "loss", "forward",
       [](const std::string& f) { return base + "layers: [{type: affine, units: 3}]\nloss: " + f + "\noptimizer: sgd\n"; }},
      {"faulty_optimizer", "optimizer", "step",
       [](const std::string& f) {
         return base + "layers: [{type: affine, units: 3}]\nloss: softmax_cross_entropy\noptimizer: " + f + "\n";
       }},
      {"faulty_regularizer", "regularizer on layers.0.W", "add_gradient",
       [](const std::string& f) {
         return base + "layers: [{type: affine, units: 3}]\nloss: softmax_cross_entropy\noptimizer: sgd\nregularizer: " +
                f + "\n";
       }},
      {"faulty_schedule", "optimizer.schedule", "factor",
       [](const std::string& f) {
         return base + "layers: [{type: affine, units: 3}]\nloss: softmax_cross_entropy\noptimizer: {type: sgd, "
                       "schedule: " +
                f + "}\n";
       }},
      {"faulty_callback", "train.callbacks.0", "end_epoch",
       [](const std::string& f) {
         return base + "layers: [{type: affine, units: 3}]\nloss: softmax_cross_entropy\noptimizer: sgd\ntrain: "
                       "{epochs: 1, batch_size: 2, callbacks: [" +
                f + "]}\n";
       }},
      {"faulty_data", "data", "load",
       [](const std::string& f) {
         std::string source = f;
         source.replace(source.find("type: faulty_data"), 17, "source: faulty_data");
         return "data: " + source + "\nlayers: [{type: affine, units: 3}]\nloss: softmax_cross_entropy\noptimizer: sgd\n";
       }},
  };
  for (const Kind& k : kinds) {
    for (const std::string what : {"input", "error", "runtime", "other"}) {
      std::string text = k.model(std::string("{type: ") + k.type + ", throw: " + what + "}");
      if (text.find("train:") == std::string::npos) text += "train: {epochs: 1, batch_size: 2}\n";
      write_file(dir.path() / "m.yaml", text);
      const auto r = run("cd " + dir.path().string() + " && " + kLamina.string() + " train m.yaml --no-progress --out run" +
                         " --plugin-dir " + plugins.string());
      const std::string last = r.output.substr(r.output.rfind('\n', r.output.size() - 2) + 1);
      const std::string head = std::string("lamina train: error: ") + k.place + " (" + k.type + " from plugin 'faulty'";
      const std::string expected =
          what == "input" ? head + "): bad setting in " + k.method + "\n"
                          : head + ", " + file + "): " + k.method + " failed in plugin code: " +
                                (what == "error"     ? std::string("lamina error in ") + k.method
                                 : what == "runtime" ? std::string("runtime error in ") + k.method
                                                     : std::string("it threw something that is not a std::exception")) +
                                "\n";
      BOOST_TEST(r.status == 2, k.type << " " << what << ": " << r.output);
      BOOST_TEST(last == expected, k.type << " " << what << ": " << r.output);
      BOOST_TEST(!fs::exists(dir.path() / "run"), k.type << " " << what << ": the failed run left its folder");
    }
  }
}
