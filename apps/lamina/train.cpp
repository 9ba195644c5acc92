// `lamina train MODEL.yaml` and `lamina train --resume RUN_DIR`.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina train MODEL.yaml [options]");
  d.add_options()("help,h", "show this help")("epochs", po::value<long long>(), "override train.epochs")(
      "seed", po::value<long long>(), "override train.seed")(
      "out", po::value<std::string>(), "run folder (default runs/<model>-<timestamp>; must not hold a run)")(
      "threads", po::value<int>(), "threads for the math (default: every core)")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override any key of the model file, e.g. --set layers.0.units=50 --set optimizer.lr=0.1 (repeatable)")(
      "no-progress", "no live progress line, even on a terminal")(
      "resume", po::value<std::string>(), "continue this run folder from its last complete epoch (no MODEL.yaml)")(
      "serve", po::value<int>()->implicit_value(6006)->value_name("PORT"),
      "also serve the dashboard of the run's parent folder on 127.0.0.1:PORT (6006 when not given; write "
      "--serve=PORT) while it trains");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster* cluster) {
  const auto parsed = parse_command(args, options(), "model", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  TrainRequest req;
  if (vm.count("resume")) {
    if (vm.count("model")) throw UsageError("give a model file or --resume RUN_DIR, not both");
    if (vm.count("out")) throw UsageError("--resume continues in the run's own folder; drop --out");
    req.resume = vm["resume"].as<std::string>();
  } else if (!vm.count("model")) {
    throw UsageError("missing the model file (lamina train MODEL.yaml)");
  } else {
    req.model = vm["model"].as<std::string>();
  }
  req.overrides = strings(vm, "set");
  if (vm.count("epochs")) req.epochs = vm["epochs"].as<long long>();
  if (vm.count("seed")) req.seed = vm["seed"].as<long long>();
  if (vm.count("threads")) req.threads = vm["threads"].as<int>();
  if (vm.count("out")) req.out = vm["out"].as<std::string>();
  if (vm.count("serve")) req.serve = vm["serve"].as<int>();
  req.progress = !vm.count("no-progress");
  req.plugins = plugin_settings(vm);
  req.cluster = cluster;
  return run_train(req, std::cout).interrupted ? 130 : 0;
}

}  // namespace

Command train_command() {
  return {"train",
          {{"train MODEL.yaml", "train a model, write a run folder, print test accuracy"},
           {"train --resume RUN_DIR", "continue an interrupted run from its last complete epoch"}},
          options,
          run,
          true};
}

}  // namespace lamina::cli
