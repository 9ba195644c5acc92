// `lamina predict RUN_DIR... --input F --out P.csv`: each sample's class and probabilities.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina predict RUN_DIR... --input FILE --out PREDS.csv [options]");
  d.add_options()("help,h", "show this help")(
      "input", po::value<std::string>(),
      "the samples, in the format of a data source: the run's own (IDX images for fashion_mnist and idx), or "
      "the one named by the file's extension (.csv, .npy); for image_folder, one image or a folder of them "
      "(the CSV then names each file)")(
      "format", po::value<std::string>(), "the data source type that reads --input (default: as said above)")(
      "out", po::value<std::string>(), "the CSV to write: row, class, one probability per class")(
      "scale", po::value<double>(),
      "multiply every input value by this instead of the model's own data.scale (the scaling it was trained "
      "with, e.g. 1/255 for 8-bit images, whatever the input's format)")(
      "best", "use each run's best checkpoint (model-best.safetensors, kept by a keep_best callback)");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "runs", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("runs")) throw UsageError("name at least one run folder");
  if (!vm.count("input") || !vm.count("out")) throw UsageError("--input FILE and --out FILE are required");
  PredictRequest req;
  for (const auto& r : strings(vm, "runs")) req.runs.emplace_back(r);
  req.input = vm["input"].as<std::string>();
  req.out = vm["out"].as<std::string>();
  if (vm.count("format")) req.format = vm["format"].as<std::string>();
  if (vm.count("scale")) req.scale = vm["scale"].as<double>();
  req.best = vm.count("best") > 0;
  req.plugins = plugin_settings(vm);
  run_predict(req, std::cout, std::cerr);
  return 0;
}

}  // namespace

Command predict_command() {
  return {"predict",
          {{"predict RUN_DIR... --input F --out P.csv", "class and probabilities per row (several runs: averaged)"}},
          options,
          run};
}

}  // namespace lamina::cli
