#include "cli.hpp"

#include <iostream>
#include <sstream>

namespace lamina::cli {

po::options_description plugin_options() {
  po::options_description d("plugin options");
  d.add_options()("plugin-dir", po::value<std::vector<std::string>>()->composing(),
                  "also load the plugins in this folder (repeatable; after the built-in folder and "
                  "LAMINA_PLUGIN_PATH)")(
      "allow-writable-plugins",
      "load plugins even from files or folders that users other than their owner (or root) can write");
  return d;
}

PluginOptions plugin_settings(const po::variables_map& vm) {
  PluginOptions options;
  for (const auto& d : strings(vm, "plugin-dir")) options.dirs.emplace_back(d);
  options.allow_writable = vm.count("allow-writable-plugins") > 0;
  return options;
}

std::optional<po::variables_map> parse_command(const std::vector<std::string>& args,
                                               const po::options_description& desc, const char* positional, int count) {
  po::options_description all;
  all.add(desc);
  if (count == 1) {
    all.add_options()(positional, po::value<std::string>());
  } else {
    all.add_options()(positional, po::value<std::vector<std::string>>());
  }
  po::positional_options_description pos;
  pos.add(positional, count);
  po::variables_map vm;
  // No abbreviations: `--epoch` must be an error, not a silent guess at `--epochs`.
  const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  po::store(po::command_line_parser(args).options(all).positional(pos).style(style).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc;
    return std::nullopt;
  }
  return vm;
}

std::vector<std::string> strings(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

Shape input_shape(const std::string& text) {
  std::vector<std::int64_t> dims;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ',');) {
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != part.size() || v < 1 || v > 4096) {
      throw UsageError("--input-shape takes 1 to 3 sizes in [1, 4096] separated by commas, e.g. 5 or 3,4");
    }
    dims.push_back(v);
  }
  if (dims.empty() || dims.size() > 3) throw UsageError("--input-shape takes 1 to 3 sizes, e.g. 5 or 3,4");
  return Shape::from(dims);
}

}  // namespace lamina::cli
