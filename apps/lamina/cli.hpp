// What every command of `lamina` shares: its entry in the command table, the flag parsing, the
// plugin flags. A command's file holds its options and its adapter (flags -> request -> call);
// the policy (ranges, defaults, what runs where) is the runtime's (runtime/commands.hpp).
#pragma once

#include <boost/program_options.hpp>
#include <lamina/error.hpp>
#include <lamina/tensor.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/cluster.hpp"
#include "runtime/plugin_loader.hpp"

namespace lamina::cli {

namespace po = boost::program_options;

// Thrown for a command-line mistake: reported with the command's usage hint, exit 2.
struct UsageError : InputError {
  using InputError::InputError;
};

// One row of the command table: usage, `lamina help CMD`, `lamina CMD --help`, dispatch, the
// unknown-command message and the commands that run as an MPI job all come from it.
struct Command {
  const char* name;
  std::vector<std::pair<const char*, const char*>> usage;  // synopsis, what it does
  po::options_description (*options)();
  // The arguments after the command's name; the MPI job when the command is one of its (else null).
  int (*run)(const std::vector<std::string>& args, Cluster* cluster);
  bool job = false;  // under mpirun every rank runs it (else rank 0 alone)
};

// The command files' entries, in the order `lamina --help` lists them.
Command train_command();
Command eval_command();
Command predict_command();
Command generate_command();
Command export_command();
Command dump_command();
Command search_command();
Command check_command();
Command plugins_command();
Command plot_command();
Command graph_command();
Command serve_command();

// --plugin-dir and --allow-writable-plugins, which every command that loads plugins takes.
po::options_description plugin_options();
PluginOptions plugin_settings(const po::variables_map& vm);

// A command's flags plus its positional arguments: `count` of them (-1: any number) stored
// under `positional`. Returns nothing when --help was asked for (and printed).
std::optional<po::variables_map> parse_command(const std::vector<std::string>& args,
                                               const po::options_description& desc, const char* positional, int count);

// A repeatable string flag's values (none when absent).
std::vector<std::string> strings(const po::variables_map& vm, const char* name);

// --input-shape 5 or 3,4 or 1,28,28: one sample's shape.
Shape input_shape(const std::string& text);

}  // namespace lamina::cli
