// The `lamina` command: parses flags into a request and calls the core (lamina/commands.hpp).
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <lamina/abi.hpp>
#include "runtime/cluster.hpp"
#include "runtime/commands.hpp"
#include <lamina/error.hpp>
#include "runtime/search.hpp"
#include <memory>
#include <optional>
#include <sstream>
#include <streambuf>
#include "suggest.hpp"
#include <string>
#include <vector>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

lamina::Cluster* g_cluster = nullptr;  // the MPI job this process is a rank of, if any
bool g_set_given = false;              // a --set is among the arguments (for the usage hint)

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

// Thrown for a command-line mistake: reported with the command's usage hint, exit 2.
struct UsageError : lamina::InputError {
  using lamina::InputError::InputError;
};

po::options_description plugin_options() {
  po::options_description d("plugin options");
  d.add_options()("plugin-dir", po::value<std::vector<std::string>>()->composing(),
                  "also load the plugins in this folder (repeatable; after the built-in folder and "
                  "LAMINA_PLUGIN_PATH)")(
      "allow-writable-plugins",
      "load plugins even from files or folders that users other than their owner (or root) can write");
  return d;
}

lamina::PluginOptions plugin_settings(const po::variables_map& vm) {
  lamina::PluginOptions options;
  if (vm.count("plugin-dir")) {
    for (const auto& d : vm["plugin-dir"].as<std::vector<std::string>>()) options.dirs.emplace_back(d);
  }
  options.allow_writable = vm.count("allow-writable-plugins") > 0;
  return options;
}

po::options_description train_options() {
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

po::options_description eval_options() {
  po::options_description d("lamina eval RUN_DIR... [options]");
  d.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a key of the runs' model.yaml, e.g. --set data.test_limit=1000 (repeatable)")(
      "best", "use each run's best checkpoint (model-best.safetensors, kept by a keep_best callback)")(
      "threads", po::value<int>(), "threads for the math (default: every core)");
  d.add(plugin_options());
  return d;
}

po::options_description predict_options() {
  po::options_description d("lamina predict RUN_DIR... --input FILE --out PREDS.csv [options]");
  d.add_options()("help,h", "show this help")(
      "input", po::value<std::string>(),
      "the samples, in the format of a data source: the run's own (IDX images for fashion_mnist and idx), or "
      "the one named by the file's extension (.csv, .npy)")(
      "format", po::value<std::string>(), "the data source type that reads --input (default: as said above)")(
      "out", po::value<std::string>(), "the CSV to write: row, class, one probability per class")(
      "scale", po::value<double>(),
      "multiply every input value by this instead of the model's own data.scale (the scaling it was trained "
      "with, e.g. 1/255 for 8-bit images, whatever the input's format)")(
      "best", "use each run's best checkpoint (model-best.safetensors, kept by a keep_best callback)");
  d.add(plugin_options());
  return d;
}

po::options_description plugins_options() {
  po::options_description d("lamina plugins [info TYPE] [options]");
  d.add_options()("help,h", "show this help")(
      "verbose,v", "also list each plugin: its file, where it was found, its owner and mode, and its types");
  d.add(plugin_options());
  return d;
}

po::options_description search_options() {
  po::options_description d("lamina search SEARCH.yaml [options]");
  d.add_options()("help,h", "show this help")("out", po::value<std::string>(),
                                              "search folder (default runs/search-<file>; an existing one is resumed)")(
      "workers", po::value<int>(), "trials run in parallel (overrides the file's `workers`)")(
      "no-progress", "no live progress line, even on a terminal")(
      "serve", po::value<int>()->implicit_value(6006)->value_name("PORT"),
      "also serve the dashboard of the search folder's parent on 127.0.0.1:PORT (6006 when not given; write "
      "--serve=PORT) while it searches");
  d.add(plugin_options());
  return d;
}

po::options_description check_options() {
  po::options_description d("lamina check TYPE [options]");
  d.add_options()("help,h", "show this help")("set", po::value<std::vector<std::string>>()->composing(),
                                              "a key of the type, e.g. --set units=3 (repeatable)")(
      "input-shape", po::value<std::string>()->default_value("5"),
      "per-sample input shape, e.g. 5 or 3,4 (layers); classes (losses); tensor shape (regularizers)")(
      "batch", po::value<int>()->default_value(4), "batch size of the checks")(
      "seed", po::value<long long>()->default_value(1), "seed of the inputs and the layer's streams");
  d.add(plugin_options());
  return d;
}

po::options_description plot_options() {
  po::options_description d("lamina plot RUN_DIR... --out FILE.png|FILE.svg [options]");
  d.add_options()("help,h", "show this help")("out", po::value<std::string>(), "the image to write (.png or .svg)")(
      "metric", po::value<std::string>()->default_value("accuracy"),
      "accuracy or loss per epoch (train solid, validation dashed, test dotted), or iterations: the batch "
      "loss every train.log_every steps")("title", po::value<std::string>()->default_value(""), "the plot's title");
  return d;
}

po::options_description graph_options() {
  po::options_description d("lamina graph MODEL.yaml|RUN_DIR [--out FILE.svg|.png|.dot] [options]");
  d.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(), "also draw the graph: .svg or .png (with Graphviz's dot), or .dot (its text)")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a key of the model, e.g. --set layers.stem.filters=16 (repeatable)")(
      "input-shape", po::value<std::string>(),
      "size the model for samples of this shape, e.g. 1,28,28, instead of reading its data");
  d.add(plugin_options());
  return d;
}

po::options_description export_options() {
  po::options_description d("lamina export RUN_DIR [--out FILE.onnx] [options]");
  d.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(),
      "the ONNX file to write (default RUN_DIR/model.onnx, or RUN_DIR/model-best.onnx with --best)")(
      "best", "export the best checkpoint (model-best.safetensors, kept by a keep_best callback)")(
      "force", "replace the file if it exists (else an existing file is refused)");
  d.add(plugin_options());
  return d;
}

po::options_description serve_options() {
  po::options_description d("lamina serve [DIR ...] [--port 6006] [--host 127.0.0.1] [options]");
  d.add_options()("help,h", "show this help")("port", po::value<int>()->default_value(6006),
                                              "the port to listen on (0: any free one, printed)")(
      "host", po::value<std::string>()->default_value("127.0.0.1"),
      "the address to listen on; anything but loopback lets other machines read the runs");
  d.add(plugin_options());
  return d;
}

po::options_description dump_options() {
  po::options_description d("lamina dump RUN_DIR|FILE.safetensors [TENSOR] [options]");
  d.add_options()("help,h", "show this help");
  return d;
}

po::options_description help_options() {
  po::options_description d("lamina help [COMMAND]");
  d.add_options()("help,h", "show this help");
  return d;
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description& pos) {
  po::variables_map vm;
  // No abbreviations: `--epoch` must be an error, not a silent guess at `--epochs`.
  const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  po::store(po::command_line_parser(args).options(desc).positional(pos).style(style).run(), vm);
  po::notify(vm);
  return vm;
}

// A command's flags plus its positional arguments: `count` of them (-1: any number) stored
// under `positional`. Returns nothing when --help was asked for (and printed).
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
  auto vm = parse(args, all, pos);
  if (vm.count("help")) {
    std::cout << desc;
    return std::nullopt;
  }
  return vm;
}

int serve_port(int port) {
  if (port < 0 || port > 65535) throw UsageError("the port must be between 0 (any free one) and 65535");
  return port;
}

// `train --serve` and `search --serve`: the dashboard of `root` while the command works (rank 0).
std::unique_ptr<lamina::DashboardThread> dashboard_beside(const po::variables_map& vm, const fs::path& root) {
  if (!vm.count("serve") || (g_cluster && g_cluster->rank() != 0)) return nullptr;
  lamina::ServeRequest req;
  req.port = serve_port(vm["serve"].as<int>());
  std::error_code ec;
  fs::create_directories(root, ec);  // runs/ before the first run: the dashboard watches it appear
  req.roots = {root};
  req.plugins = plugin_settings(vm);
  return std::make_unique<lamina::DashboardThread>(req, std::cout);
}

fs::path parent_or_here(const std::string& dir) {
  const fs::path p = fs::path(dir).lexically_normal().parent_path();
  return p.empty() ? fs::path(".") : p;
}

int train(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, train_options(), "model", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  lamina::TrainRequest req;
  if (vm.count("resume")) {
    if (vm.count("model")) throw UsageError("give a model file or --resume RUN_DIR, not both");
    if (vm.count("out")) throw UsageError("--resume continues in the run's own folder; drop --out");
    req.resume = vm["resume"].as<std::string>();
  } else if (!vm.count("model")) {
    throw UsageError("missing the model file (lamina train MODEL.yaml)");
  } else {
    req.model = vm["model"].as<std::string>();
  }
  if (vm.count("set")) req.overrides = vm["set"].as<std::vector<std::string>>();
  if (vm.count("epochs")) {
    if (vm["epochs"].as<long long>() < 1) throw UsageError("--epochs must be at least 1");
    req.overrides.push_back("train.epochs=" + std::to_string(vm["epochs"].as<long long>()));
  }
  if (vm.count("seed")) {
    if (vm["seed"].as<long long>() < 0) throw UsageError("--seed must be >= 0");
    req.overrides.push_back("train.seed=" + std::to_string(vm["seed"].as<long long>()));
  }
  if (vm.count("threads")) {
    req.threads = vm["threads"].as<int>();
    if (req.threads < 1 || req.threads > 1024) throw UsageError("--threads must be between 1 and 1024");
  }
  if (vm.count("out")) req.out = vm["out"].as<std::string>();
  req.progress = !vm.count("no-progress");
  req.plugins = plugin_settings(vm);
  req.cluster = g_cluster;
  const auto dashboard = dashboard_beside(vm, req.resume ? parent_or_here(req.resume->string())
                                              : req.out ? parent_or_here(req.out->string())
                                                        : fs::path("runs"));
  return lamina::run_train(req, std::cout).interrupted ? 130 : 0;
}

int eval(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, eval_options(), "runs", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("runs")) throw UsageError("name at least one run folder (lamina eval RUN_DIR...)");
  lamina::EvalRequest req;
  for (const auto& r : vm["runs"].as<std::vector<std::string>>()) req.runs.emplace_back(r);
  if (vm.count("set")) req.overrides = vm["set"].as<std::vector<std::string>>();
  if (vm.count("threads")) {
    req.threads = vm["threads"].as<int>();
    if (req.threads < 1 || req.threads > 1024) throw UsageError("--threads must be between 1 and 1024");
  }
  req.best = vm.count("best") > 0;
  req.plugins = plugin_settings(vm);
  lamina::run_eval(req, std::cout, std::cerr);
  return 0;
}

int predict(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, predict_options(), "runs", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("runs")) throw UsageError("name at least one run folder");
  if (!vm.count("input") || !vm.count("out")) throw UsageError("--input FILE and --out FILE are required");
  lamina::PredictRequest req;
  for (const auto& r : vm["runs"].as<std::vector<std::string>>()) req.runs.emplace_back(r);
  req.input = vm["input"].as<std::string>();
  req.out = vm["out"].as<std::string>();
  if (vm.count("format")) req.format = vm["format"].as<std::string>();
  if (vm.count("scale")) {
    const double scale = vm["scale"].as<double>();
    if (!(scale > 0 && scale < 1e30)) throw UsageError("--scale must be a positive number");
    req.scale = static_cast<float>(scale);
  }
  req.best = vm.count("best") > 0;
  req.plugins = plugin_settings(vm);
  lamina::run_predict(req, std::cout, std::cerr);
  return 0;
}

int dump(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, dump_options(), "words", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const auto words = vm.count("words") ? vm["words"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (words.empty() || words.size() > 2) {
    throw UsageError("expected RUN_DIR (or a .safetensors file) and optionally a tensor name");
  }
  lamina::run_dump(words[0], words.size() == 2 ? words[1] : "", std::cout);
  return 0;
}

int plugins(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, plugins_options(), "words", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  lamina::PluginsRequest req;
  req.plugins = plugin_settings(vm);
  req.verbose = vm.count("verbose") > 0;
  if (vm.count("words")) {
    const auto words = vm["words"].as<std::vector<std::string>>();
    if (words.size() != 2 || words[0] != "info") {
      throw UsageError("expected `lamina plugins` or `lamina plugins info TYPE`");
    }
    req.type = words[1];
  }
  lamina::run_plugins(req, std::cout);
  return 0;
}

int search(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, search_options(), "file", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("file")) throw UsageError("missing the search file (lamina search SEARCH.yaml)");
  lamina::SearchRequest req;
  req.file = vm["file"].as<std::string>();
  if (vm.count("out")) req.out = vm["out"].as<std::string>();
  if (vm.count("workers")) {
    req.workers = vm["workers"].as<int>();
    if (*req.workers < 1 || *req.workers > 256) throw UsageError("--workers must be between 1 and 256");
  }
  req.progress = !vm.count("no-progress");
  req.plugins = plugin_settings(vm);
  req.cluster = g_cluster;
  const auto dashboard = dashboard_beside(vm, req.out ? parent_or_here(req.out->string()) : fs::path("runs"));
  const auto result = lamina::run_search(req, std::cout);
  return result.interrupted ? 130 : 0;
}

// --input-shape 5 or 3,4 or 1,28,28: one sample's shape.
lamina::Shape input_shape(const std::string& text) {
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
  return lamina::Shape::from(dims);
}

int check(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, check_options(), "type", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("type")) throw UsageError("missing the type to check (lamina check TYPE)");
  lamina::CheckRequest req;
  req.type = vm["type"].as<std::string>();
  if (vm.count("set")) req.overrides = vm["set"].as<std::vector<std::string>>();
  req.input_shape = input_shape(vm["input-shape"].as<std::string>());
  req.batch = vm["batch"].as<int>();
  if (req.batch < 1 || req.batch > 4096) throw UsageError("--batch must be between 1 and 4096");
  if (vm["seed"].as<long long>() < 0) throw UsageError("--seed must be >= 0");
  req.seed = static_cast<std::uint64_t>(vm["seed"].as<long long>());
  req.plugins = plugin_settings(vm);
  return lamina::run_check(req, std::cout) ? 0 : 1;
}

int plot(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, plot_options(), "runs", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("runs")) throw UsageError("name at least one run folder");
  if (!vm.count("out")) throw UsageError("--out FILE.png or FILE.svg is required");
  lamina::PlotRequest req;
  for (const auto& r : vm["runs"].as<std::vector<std::string>>()) req.runs.emplace_back(r);
  req.out = vm["out"].as<std::string>();
  req.metric = vm["metric"].as<std::string>();
  req.title = vm["title"].as<std::string>();
  lamina::run_plot(req, std::cout);
  return 0;
}

int graph(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, graph_options(), "model", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("model")) throw UsageError("missing the model (lamina graph MODEL.yaml or RUN_DIR)");
  lamina::GraphRequest req;
  req.model = vm["model"].as<std::string>();
  if (vm.count("set")) req.overrides = vm["set"].as<std::vector<std::string>>();
  if (vm.count("input-shape")) req.input_shape = input_shape(vm["input-shape"].as<std::string>());
  if (vm.count("out")) req.out = vm["out"].as<std::string>();
  req.plugins = plugin_settings(vm);
  lamina::run_graph(req, std::cout);
  return 0;
}

int export_model(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, export_options(), "run", 1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("run")) throw UsageError("missing the run folder (lamina export RUN_DIR)");
  lamina::ExportRequest req;
  req.run = vm["run"].as<std::string>();
  if (vm.count("out")) req.out = vm["out"].as<std::string>();
  req.best = vm.count("best") > 0;
  req.force = vm.count("force") > 0;
  req.plugins = plugin_settings(vm);
  lamina::run_export(req, std::cout);
  return 0;
}

int serve(const std::vector<std::string>& args) {
  const auto parsed = parse_command(args, serve_options(), "dirs", -1);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  lamina::ServeRequest req;
  if (vm.count("dirs")) {
    for (const auto& d : vm["dirs"].as<std::vector<std::string>>()) req.roots.emplace_back(d);
  } else {
    req.roots.emplace_back("runs");
  }
  req.port = serve_port(vm["port"].as<int>());
  req.host = vm["host"].as<std::string>();
  req.plugins = plugin_settings(vm);
  lamina::run_serve(req, std::cout);
  return 0;
}

int help(const std::vector<std::string>& args);

// The one table of commands: usage, `lamina help CMD`, `lamina CMD --help`, dispatch, the
// unknown-command message and the commands that run as an MPI job all come from it.
struct Command {
  const char* name;
  std::vector<std::pair<const char*, const char*>> usage;  // synopsis, what it does
  po::options_description (*options)();
  int (*run)(const std::vector<std::string>&);
  bool job = false;  // under mpirun every rank runs it (else rank 0 alone)
};

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"train",
       {{"train MODEL.yaml", "train a model, write a run folder, print test accuracy"},
        {"train --resume RUN_DIR", "continue an interrupted run from its last complete epoch"}},
       train_options, train, true},
      {"eval",
       {{"eval RUN_DIR...", "rebuild trained models and report test accuracy (several: an ensemble)"}},
       eval_options, eval},
      {"predict",
       {{"predict RUN_DIR... --input F --out P.csv",
         "class and probabilities per row (several runs: averaged)"}},
       predict_options, predict},
      {"export",
       {{"export RUN_DIR [--out F.onnx]", "the trained model as ONNX (inference form, softmax output)"}},
       export_options, export_model},
      {"dump", {{"dump RUN_DIR [TENSOR]", "list a checkpoint's tensors, or print one's values"}}, dump_options, dump},
      {"search",
       {{"search SEARCH.yaml", "run a hyperparameter search (resumable: rerun the same command)"}},
       search_options, search, true},
      {"check",
       {{"check TYPE", "check a layer, loss, regularizer, optimizer or initializer plugin"},
        {"", "(numerical gradients, modes, batch of one, determinism, save/reload)"}},
       check_options, check},
      {"plugins",
       {{"plugins", "list every type the loaded plugins provide"},
        {"plugins info TYPE", "show a type's keys, their types, defaults and docs"}},
       plugins_options, plugins},
      {"plot", {{"plot RUN_DIR... --out F", "draw the curves of one or several runs (PNG or SVG, with gnuplot)"}},
       plot_options, plot},
      {"graph",
       {{"graph MODEL.yaml|RUN_DIR", "the layers as built: names, inputs, shapes, parameters"},
        {"graph ... --out F.svg", "draw the model's graph (SVG, PNG or DOT, with Graphviz)"}},
       graph_options, graph},
      {"serve",
       {{"serve [DIR ...]", "a live dashboard of the runs and searches under DIR (default runs/) in the browser"}},
       serve_options, serve},
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

int help(const std::vector<std::string>& args) {
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

int dispatch(const std::vector<std::string>& argv) {
  if (argv.empty()) {
    std::cerr << usage();
    return 2;
  }
  const std::string& cmd = argv[0];
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (cmd == "-h" || cmd == "--help") return help({});
  if (cmd == "--version") {
    std::cout << "lamina " << LAMINA_VERSION_STRING << " (plugin ABI " << lamina::kAbiVersion << ", "
              << lamina::kFingerprint << ")\n";
    return 0;
  }
  if (const Command* c = find_command(cmd)) return c->run(rest);
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
  const bool job = cluster && cluster->size() > 1;
  std::optional<Silence> silence;
  const int rank = cluster ? cluster->rank() : 0;
  if (job) {
    // Only train and search work as a job; any other command runs once, on rank 0.
    const bool shared = known && find_command(args[0])->job;
    if (rank > 0 && !shared) return 0;
    if (rank > 0) silence.emplace(std::cout);
    g_cluster = cluster.get();
  }
  try {
    return dispatch(args);
  } catch (const lamina::PeerFailed& e) {
    return e.code;  // the failing rank printed the message
  } catch (...) {
    // Before any collective call every rank ran the same code on the same flags: rank 0 speaks.
    const bool speak = !job || rank == 0 || cluster->started();
    std::ostringstream quiet;
    auto* saved = std::cerr.rdbuf();
    if (!speak) std::cerr.rdbuf(quiet.rdbuf());
    const int code = report(job && rank > 0 ? fmt_rank(who, rank) : who, hint);
    std::cerr.rdbuf(saved);
    // A failure the other ranks do not share would leave them waiting in their next collective.
    if (job && !cluster->failure_is_shared()) cluster->abort(code);
    return code;
  }
}
