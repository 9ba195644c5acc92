// `lamina eval RUN_DIR...`: test loss and accuracy of trained runs, and of their ensemble.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina eval RUN_DIR... [options]");
  d.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a key of the runs' model.yaml, e.g. --set data.test_limit=1000 (repeatable)")(
      "best", "use each run's best checkpoint (model-best.safetensors, kept by a keep_best callback)")(
      "threads", po::value<int>(), "threads for the math (default: every core)");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "runs", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("runs")) throw UsageError("name at least one run folder (lamina eval RUN_DIR...)");
  EvalRequest req;
  for (const auto& r : strings(vm, "runs")) req.runs.emplace_back(r);
  req.overrides = strings(vm, "set");
  if (vm.count("threads")) req.threads = vm["threads"].as<int>();
  req.best = vm.count("best") > 0;
  req.plugins = plugin_settings(vm);
  run_eval(req, std::cout, std::cerr);
  return 0;
}

}  // namespace

Command eval_command() {
  return {"eval",
          {{"eval RUN_DIR...", "rebuild trained models and report test accuracy (several: an ensemble)"}},
          options,
          run};
}

}  // namespace lamina::cli
