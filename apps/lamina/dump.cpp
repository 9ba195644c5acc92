// `lamina dump RUN_DIR [TENSOR]`: a checkpoint's tensors, or one tensor's values.
#include <iostream>

#include "cli.hpp"
#include "runtime/commands.hpp"

namespace lamina::cli {
namespace {

po::options_description options() {
  po::options_description d("lamina dump RUN_DIR|FILE.safetensors [TENSOR] [options]");
  d.add_options()("help,h", "show this help");
  return d;
}

int run(const std::vector<std::string>& args, Cluster*) {
  const auto parsed = parse_command(args, options(), "words", -1);
  if (!parsed) return 0;
  const auto words = strings(*parsed, "words");
  if (words.empty() || words.size() > 2) {
    throw UsageError("expected RUN_DIR (or a .safetensors file) and optionally a tensor name");
  }
  run_dump(words[0], words.size() == 2 ? words[1] : "", std::cout);
  return 0;
}

}  // namespace

Command dump_command() {
  return {"dump", {{"dump RUN_DIR [TENSOR]", "list a checkpoint's tensors, or print one's values"}}, options, run};
}

}  // namespace lamina::cli
