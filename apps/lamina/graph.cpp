// `lamina graph MODEL.yaml|RUN_DIR`: the layers as built, and a drawing of the graph.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina graph MODEL.yaml|RUN_DIR [--out FILE.svg|.png|.dot] [options]");
  d.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(), "also draw the graph: .svg or .png (with Graphviz's dot), or .dot (its text)")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a key of the model, e.g. --set layers.stem.filters=16 (repeatable)")(
      "input-shape", po::value<std::string>(),
      "size the model for samples of this shape, e.g. 1,28,28, instead of reading its data");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "model", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("model")) throw UsageError("missing the model (lamina graph MODEL.yaml or RUN_DIR)");
  GraphRequest req;
  req.model = vm["model"].as<std::string>();
  req.overrides = strings(vm, "set");
  if (vm.count("input-shape")) req.input_shape = input_shape(vm["input-shape"].as<std::string>());
  if (vm.count("out")) req.out = vm["out"].as<std::string>();
  req.plugins = plugin_settings(vm);
  run_graph(req, std::cout);
  return 0;
}

}  // namespace

Command graph_command() {
  return {"graph",
          {{"graph MODEL.yaml|RUN_DIR", "the layers as built: names, inputs, shapes, parameters"},
           {"graph ... --out F.svg", "draw the model's graph (SVG, PNG or DOT, with Graphviz)"}},
          options,
          run};
}

}  // namespace lamina::cli
