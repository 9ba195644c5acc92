// `lamina plugins [info TYPE]`: what the loaded plugins provide.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina plugins [info TYPE] [options]");
  d.add_options()("help,h", "show this help")(
      "verbose,v", "also list each plugin: its file, where it was found, its owner and mode, and its types");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "words", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  PluginsRequest req;
  req.plugins = plugin_settings(vm);
  req.verbose = vm.count("verbose") > 0;
  if (vm.count("words")) {
    const auto words = strings(vm, "words");
    if (words.size() != 2 || words[0] != "info") {
      throw UsageError("expected `lamina plugins` or `lamina plugins info TYPE`");
    }
    req.type = words[1];
  }
  run_plugins(req, std::cout);
  return 0;
}

}  // namespace

Command plugins_command() {
  return {"plugins",
          {{"plugins", "list every type the loaded plugins provide"},
           {"plugins info TYPE", "show a type's keys, their types, defaults and docs"}},
          options,
          run};
}

}  // namespace lamina::cli
