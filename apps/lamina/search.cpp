// `lamina search SEARCH.yaml`: a hyperparameter search, resumed when its folder exists.
#include <iostream>

#include "cli.hpp"
#include "runtime/search.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina search SEARCH.yaml [options]");
  d.add_options()("help,h", "show this help")("out", po::value<std::string>(),
                                              "search folder (default runs/search-<file>; an existing one is resumed)")(
      "workers", po::value<int>(), "trials run in parallel (overrides the file's `workers`)")(
      "no-progress", "no live progress line, even on a terminal")(
      "serve", po::value<int>()->implicit_value(6006)->value_name("PORT"),
      "also serve the dashboard of the search folder's parent on 127.0.0.1:PORT (6006 when not given; write "
      "--serve=PORT) while it searches");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster* cluster) {
  const auto parsed = parse_command(args, options(), "file", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("file")) throw UsageError("missing the search file (lamina search SEARCH.yaml)");
  SearchRequest req;
  req.file = vm["file"].as<std::string>();
  if (vm.count("out")) req.out = vm["out"].as<std::string>();
  if (vm.count("workers")) req.workers = vm["workers"].as<int>();
  if (vm.count("serve")) req.serve = vm["serve"].as<int>();
  req.progress = !vm.count("no-progress");
  req.plugins = plugin_settings(vm);
  req.cluster = cluster;
  return run_search(req, std::cout).interrupted ? 130 : 0;
}

}  // namespace

Command search_command() {
  return {"search",
          {{"search SEARCH.yaml", "run a hyperparameter search (resumable: rerun the same command)"}},
          options,
          run,
          true};
}

}  // namespace lamina::cli
