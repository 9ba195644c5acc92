// `lamina generate RUN_DIR --prompt TEXT [--tokens N] [--temperature T] [--seed S]`: text
// sampled from a trained language model.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina generate RUN_DIR --prompt TEXT [options]");
  d.add_options()("help,h", "show this help")("prompt", po::value<std::string>(),
                                              "the text to continue (encoded by the run's data source)")(
      "tokens", po::value<std::int64_t>()->default_value(200), "how many tokens to sample (1..1000000)")(
      "temperature", po::value<double>()->default_value(1.0),
      "divide the scores by this before the softmax: below 1 more likely tokens, above 1 more varied; 0 always "
      "takes the most probable")(
      "seed", po::value<std::uint64_t>()->default_value(1), "the sampling stream: the same seed gives the same text")(
      "best", "use the run's best checkpoint (model-best.safetensors, kept by a keep_best callback)");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "run", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("run")) throw UsageError("name a run folder");
  if (!vm.count("prompt")) throw UsageError("--prompt TEXT is required");
  GenerateRequest req;
  req.run = vm["run"].as<std::string>();
  req.prompt = vm["prompt"].as<std::string>();
  req.tokens = vm["tokens"].as<std::int64_t>();
  req.temperature = vm["temperature"].as<double>();
  req.seed = vm["seed"].as<std::uint64_t>();
  req.best = vm.count("best") > 0;
  req.plugins = plugin_settings(vm);
  run_generate(req, std::cout, std::cerr);
  return 0;
}

}  // namespace

Command generate_command() {
  return {"generate",
          {{"generate RUN_DIR --prompt TEXT", "text sampled from a trained language model (a text source's run)"}},
          options,
          run};
}

}  // namespace lamina::cli
