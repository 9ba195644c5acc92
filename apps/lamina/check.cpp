// `lamina check TYPE`: the conformance checks of one plugin type.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina check TYPE [options]");
  d.add_options()("help,h", "show this help")("set", po::value<std::vector<std::string>>()->composing(),
                                              "a key of the type, e.g. --set units=3 (repeatable)")(
      "input-shape", po::value<std::string>()->default_value("5"),
      "per-sample input shape, e.g. 5 or 3,4 (layers); classes (losses); tensor shape (regularizers)")(
      "ids", po::value<long long>(), "layers that take token ids (embedding): random ids below this")(
      "batch", po::value<int>()->default_value(4), "batch size of the checks")(
      "seed", po::value<long long>()->default_value(1), "seed of the inputs and the layer's streams");
  d.add(plugin_options());
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "type", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("type")) throw UsageError("missing the type to check (lamina check TYPE)");
  CheckRequest req;
  req.type = vm["type"].as<std::string>();
  req.overrides = strings(vm, "set");
  req.input_shape = input_shape(vm["input-shape"].as<std::string>());
  req.batch = vm["batch"].as<int>();
  if (vm.count("ids")) {
    if (vm["ids"].as<long long>() < 1 || vm["ids"].as<long long>() > (1LL << 24)) {
      throw UsageError("--ids must be between 1 and 16777216 (the vocabulary's size)");
    }
    req.ids = vm["ids"].as<long long>();
  }
  // The request's seed is unsigned: a negative one is a mistake of the flag, not a large seed.
  if (vm["seed"].as<long long>() < 0) throw UsageError("--seed must be >= 0");
  req.seed = static_cast<std::uint64_t>(vm["seed"].as<long long>());
  req.plugins = plugin_settings(vm);
  return run_check(req, std::cout) ? 0 : 1;
}

}  // namespace

Command check_command() {
  return {"check",
          {{"check TYPE", "check a layer, loss, regularizer, optimizer or initializer plugin"},
           {"", "(numerical gradients, modes, batch of one, determinism, save/reload)"}},
          options,
          run};
}

}  // namespace lamina::cli
