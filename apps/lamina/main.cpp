// The `lamina` command: the table of commands (each in its own file: train.cpp, search.cpp, ...),
// dispatch, help, and the mapping of what a command throws to its message and exit status.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <lamina/abi.hpp>
#include "runtime/cluster.hpp"
#include "runtime/commands.hpp"
#include <lamina/error.hpp>
#include <memory>
#include <optional>
#include <sstream>
#include <streambuf>
#include "cli.hpp"
#include "suggest.hpp"
#include <string>
#include <vector>

namespace po = boost::program_options;

namespace {

bool g_set_given = false;  // a --set is among the arguments (for the usage hint)

constexpr const char* kUsageHead = R"(usage: lamina <command> [options]

Lamina trains neural networks described in YAML; every layer, loss, regularizer, optimizer
and initializer is a plugin loaded at run time.

commands:
)";

constexpr const char* kUsageTail = R"(
options:
  -h, --help              show this help
  --version               show the version, plugin ABI and build fingerprint

under MPI (docs/cluster.md):
  mpirun -np N lamina train ...    data-parallel: each rank takes its share of every batch
  mpirun -np N lamina search ...   rank 0 hands trials to the workers of every rank

exit status: 0 success, 1 failure while running (e.g. the loss diverged), 2 bad input,
             130 interrupted (Ctrl-C; `lamina train --resume DIR` or the same search continues).
)";

using lamina::cli::Command;
using lamina::cli::UsageError;
namespace cli = lamina::cli;

po::options_description help_options() {
  po::options_description d("lamina help [COMMAND]");
  d.add_options()("help,h", "show this help");
  return d;
}

int help(const std::vector<std::string>& args, lamina::Cluster*);

// The one table of commands (cli.hpp): each row comes from the command's own file.
const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      cli::train_command(),   cli::eval_command(),    cli::predict_command(), cli::generate_command(),
      cli::export_command(),  cli::dump_command(),    cli::search_command(),  cli::check_command(),
      cli::plugins_command(), cli::plot_command(),    cli::graph_command(),   cli::serve_command(),
      {"help", {{"help [COMMAND]", "show help (also: lamina COMMAND --help)"}}, help_options, help},
  };
  return table;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::string command_names() {
  std::string names;
  for (const auto& c : commands()) names += std::string(names.empty() ? "" : ", ") + c.name;
  return names;
}

std::string usage() {
  std::string text = kUsageHead;
  for (const auto& c : commands()) {
    for (const auto& [synopsis, what] : c.usage) {
      std::string line = "  " + std::string(synopsis);
      // A synopsis too long for the column: the description goes on the next line, aligned.
      line += line.size() < 25 ? std::string(26 - line.size(), ' ') : "\n" + std::string(26, ' ');
      text += line + what + "\n";
    }
  }
  return text + kUsageTail;
}

int help(const std::vector<std::string>& args, lamina::Cluster*) {
  if (args.empty()) {
    std::cout << usage();
    return 0;
  }
  if (args.size() > 1) throw UsageError("expected one command name (lamina help COMMAND)");
  if (args[0] == "-h" || args[0] == "--help") {
    std::cout << help_options();
    return 0;
  }
  const Command* c = find_command(args[0]);
  if (c == nullptr) throw UsageError("unknown command '" + args[0] + "'; commands: " + command_names());
  std::cout << c->options();
  return 0;
}

int dispatch(const std::vector<std::string>& argv, lamina::Cluster* cluster) {
  if (argv.empty()) {
    std::cerr << usage();
    return 2;
  }
  const std::string& cmd = argv[0];
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (cmd == "-h" || cmd == "--help") return help({}, nullptr);
  if (cmd == "--version") {
    std::cout << "lamina " << LAMINA_VERSION_STRING << " (plugin ABI " << lamina::kAbiVersion << ", "
              << lamina::kFingerprint << ")\n";
    return 0;
  }
  if (const Command* c = find_command(cmd)) return c->run(rest, cluster);
  std::vector<std::string> names;
  for (const auto& c : commands()) names.emplace_back(c.name);
  throw UsageError("unknown command '" + cmd + "'" + lamina::detail::did_you_mean(cmd, names) +
                   "; commands: " + command_names());
}

std::string fmt_rank(const std::string& who, int rank) { return who + " (rank " + std::to_string(rank) + ")"; }

// Prints the exception being handled as "lamina CMD: error: ..." and returns its exit status.
int report(const std::string& who, const std::string& hint) {
  try {
    throw;
  } catch (const po::unknown_option& e) {
    // "--epoch": the closest flag of the command, as model keys get.
    std::vector<std::string> flags;
    const std::string command = who.size() > 7 ? who.substr(7) : "";
    if (const Command* c = find_command(command)) {
      const po::options_description desc = c->options();
      for (const auto& o : desc.options()) flags.push_back("--" + o->long_name());
    }
    std::cerr << who << ": error: " << e.what() << lamina::detail::did_you_mean(e.get_option_name(), flags) << hint
              << "\n";
    return 2;
  } catch (const po::too_many_positional_options_error& e) {
    // `--set layers.0.units 5`: the value became a positional argument.
    std::cerr << who << ": error: " << e.what()
              << (g_set_given ? "; a --set takes KEY=VALUE as one word (--set layers.0.units=5)" : "") << hint << "\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << who << ": error: " << e.what() << hint << "\n";
    return 2;
  } catch (const UsageError& e) {
    std::cerr << who << ": error: " << e.what() << hint << "\n";
    return 2;
  } catch (const lamina::RequestError& e) {  // a flag's value out of its range
    std::cerr << who << ": error: " << e.what() << hint << "\n";
    return 2;
  } catch (const lamina::InputError& e) {
    std::cerr << who << ": error: " << e.what() << "\n";
    return 2;
  } catch (const lamina::Error& e) {
    std::cerr << who << ": failed: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << who << ": failed: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << who << ": failed: " << e.what() << "\n";
    return 1;
  }
}

// What ranks other than 0 print on stdout: nothing (rank 0 speaks for the job).
// Installed for the life of main: std::cout outlives main, so it gets its own buffer back.
class Silence {
 public:
  explicit Silence(std::ostream& s) : stream_(s), saved_(s.rdbuf(&null_)) {}
  ~Silence() { stream_.rdbuf(saved_); }

 private:
  struct Null : std::streambuf {
    int overflow(int c) override { return c; }
  } null_;
  std::ostream& stream_;
  std::streambuf* saved_;
};

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<lamina::Cluster> cluster;
  try {
    cluster = lamina::Cluster::join(argc, argv);
  } catch (const lamina::PeerFailed& e) {
    return e.code;
  } catch (const lamina::InputError& e) {
    std::cerr << "lamina: error: " << e.what() << "\n";
    return 2;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  g_set_given = std::find(args.begin(), args.end(), "--set") != args.end();
  // Every message starts with the command it concerns: "lamina train: error: ...".
  const bool known = !args.empty() && find_command(args[0]) != nullptr;
  const std::string who = known ? "lamina " + args[0] : "lamina";
  const std::string hint = " (see `" + who + " --help`)";
  // Under mpirun (runtime/commands.hpp, JobRole): train and search on every rank, rank 0
  // speaking for the job; any other command once, on rank 0.
  const auto role = lamina::job_role(cluster.get(), known && find_command(args[0])->job);
  if (!role.runs) return 0;
  std::optional<Silence> silence;
  if (!role.speaks) silence.emplace(std::cout);
  const int rank = cluster ? cluster->rank() : 0;
  try {
    return dispatch(args, role.cluster);
  } catch (const lamina::PeerFailed& e) {
    return e.code;  // the failing rank printed the message
  } catch (...) {
    std::ostringstream quiet;
    auto* saved = std::cerr.rdbuf();
    if (!lamina::failure_speaks(cluster.get())) std::cerr.rdbuf(quiet.rdbuf());
    const int code = report(rank > 0 ? fmt_rank(who, rank) : who, hint);
    std::cerr.rdbuf(saved);
    lamina::settle_failure(cluster.get(), code);
    return code;
  }
}
