// `lamina plot RUN_DIR... --out F`: curves of runs, or the picture of a search, with gnuplot.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina plot RUN_DIR... --out FILE.png|FILE.svg [options]");
  d.add_options()("help,h", "show this help")("out", po::value<std::string>(), "the image to write (.png or .svg)")(
      "metric", po::value<std::string>()->default_value("accuracy"),
      "accuracy or loss per epoch (train solid, validation dashed, test dotted), or iterations: the batch "
      "loss every train.log_every steps")("title", po::value<std::string>()->default_value(""), "the plot's title");
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "runs", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("runs")) throw UsageError("name at least one run folder");
  if (!vm.count("out")) throw UsageError("--out FILE.png or FILE.svg is required");
  PlotRequest req;
  for (const auto& r : strings(vm, "runs")) req.runs.emplace_back(r);
  req.out = vm["out"].as<std::string>();
  req.metric = vm["metric"].as<std::string>();
  req.title = vm["title"].as<std::string>();
  run_plot(req, std::cout);
  return 0;
}

}  // namespace

Command plot_command() {
  return {"plot",
          {{"plot RUN_DIR... --out F", "draw the curves of one or several runs (PNG or SVG, with gnuplot)"}},
          options,
          run};
}

}  // namespace lamina::cli
