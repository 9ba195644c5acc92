// `lamina serve [DIR ...]`: the dashboard of the runs and searches under the folders.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina serve [DIR ...] [--port 6006] [--host 127.0.0.1] [options]");
  d.add_options()("help,h", "show this help")("port", po::value<int>()->default_value(6006),
                                              "the port to listen on (0: any free one, printed)")(
      "host", po::value<std::string>()->default_value("127.0.0.1"),
      "the address to listen on; anything but loopback lets other machines read the runs");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "dirs", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  ServeRequest req;
  for (const auto& d : strings(vm, "dirs")) req.roots.emplace_back(d);
  if (req.roots.empty()) req.roots.emplace_back("runs");
  req.port = vm["port"].as<int>();
  req.host = vm["host"].as<std::string>();
  req.plugins = plugin_settings(vm);
  run_serve(req, std::cout);
  return 0;
}

}  // namespace

Command serve_command() {
  return {"serve",
          {{"serve [DIR ...]", "a live dashboard of the runs and searches under DIR (default runs/) in the browser"}},
          options,
          run};
}

}  // namespace lamina::cli
