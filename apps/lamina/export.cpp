// `lamina export RUN_DIR`: the trained model as an ONNX file.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina export RUN_DIR [--out FILE.onnx] [options]");
  d.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(),
      "the ONNX file to write (default RUN_DIR/model.onnx, or RUN_DIR/model-best.onnx with --best)")(
      "best", "export the best checkpoint (model-best.safetensors, kept by a keep_best callback)")(
      "force", "replace the file if it exists (else an existing file is refused)");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "run", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("run")) throw UsageError("missing the run folder (lamina export RUN_DIR)");
  ExportRequest req;
  req.run = vm["run"].as<std::string>();
  if (vm.count("out")) req.out = vm["out"].as<std::string>();
  req.best = vm.count("best") > 0;
  req.force = vm.count("force") > 0;
  req.plugins = plugin_settings(vm);
  run_export(req, std::cout);
  return 0;
}

}  // namespace

Command export_command() {
  return {"export",
          {{"export RUN_DIR [--out F.onnx]", "the trained model as ONNX (inference form, softmax output)"}},
          options,
          run};
}

}  // namespace lamina::cli
