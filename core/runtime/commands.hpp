// The `lamina` commands as library calls: the command line only parses flags into one of
// these requests and calls the function, so every command is usable (and tested) from C++.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cluster.hpp"
#include "runtime/plugin_loader.hpp"
#include "lamina/tensor.hpp"
#include "runtime/trainer.hpp"

namespace lamina {

// A request's field out of its range. The fields are the commands' flags, and the messages name
// them so (`--threads must be between 1 and 1024`): the command line adds its usage hint.
struct RequestError : InputError {
  using InputError::InputError;
};

struct TrainRequest {
  std::filesystem::path model;
  // The model file's text itself (the Python module's dict, as JSON): `model` then only names it
  // in messages, and relative paths in it are relative to the working folder.
  std::optional<std::string> model_text;
  std::vector<std::string> overrides;        // --set KEY=VALUE
  std::optional<std::int64_t> epochs;        // --epochs (>= 1): train.epochs, after the overrides
  std::optional<std::int64_t> seed;          // --seed (>= 0): train.seed, after the overrides
  std::optional<std::filesystem::path> out;  // default: runs/<model>-<timestamp>
  std::optional<int> threads;                // 1..1024; none: OpenMP's default (every core)
  PluginOptions plugins;                     // --plugin-dir, --allow-writable-plugins
  bool progress = true;                      // a live progress line, when stderr is a terminal
  // Continue this run folder from its last complete epoch (model, optimizer and random streams
  // restored); `model` is then ignored and the overrides apply to the run's model.yaml.
  std::optional<std::filesystem::path> resume;
  // The MPI job this process is a rank of (null: alone). With several ranks the training is
  // data-parallel; every rank reads the model and data, rank 0 alone writes the run folder.
  Cluster* cluster = nullptr;
  // --serve PORT: the dashboard of the run's parent folder (runs/ by default) while it trains,
  // served by rank 0.
  std::optional<int> serve;
  // Told of every batch and epoch after the run folder's writer (an embedding host's callback:
  // the Python module's on_epoch); its should_stop() ends the run as Ctrl-C does.
  TrainObserver* observer = nullptr;
};

struct TrainResult {
  std::filesystem::path run_dir;
  std::vector<EpochMetrics> epochs;
  bool interrupted = false;  // stopped by SIGINT or SIGTERM after its last finished epoch
};

// Trains and writes the run folder. Throws InputError before creating anything when the
// model, the data or a flag is wrong; throws Diverged (metrics so far kept) on a NaN loss.
TrainResult run_train(const TrainRequest& request, std::ostream& out);

struct EvalRequest {
  std::vector<std::filesystem::path> runs;  // one run, or several: an ensemble
  std::vector<std::string> overrides;       // --set, e.g. data.test_limit=1000
  bool best = false;                        // --best: model-best.safetensors (keep_best)
  std::optional<int> threads;               // 1..1024; none: every core
  PluginOptions plugins;  // --plugin-dir, --allow-writable-plugins
};
// Rebuilds each run's model from model.yaml + model.safetensors and reports its test loss and
// accuracy; with several runs, also the accuracy of their averaged probabilities.
void run_eval(const EvalRequest& request, std::ostream& out, std::ostream& err);

struct PredictRequest {
  std::vector<std::filesystem::path> runs;  // several: their probabilities are averaged
  std::filesystem::path input;              // samples in a data source's format (IDX images, CSV rows, .npy)
  std::string format;                       // --format: the data source reading `input` (default: by extension or the run's)
  std::filesystem::path out;                // CSV: row, class, one probability per class
  // --scale: replaces the model's own input scaling (data.scale, the one it was trained with);
  // positive and finite.
  std::optional<double> scale;
  bool best = false;      // --best: model-best.safetensors (keep_best)
  PluginOptions plugins;  // --plugin-dir, --allow-writable-plugins
};
void run_predict(const PredictRequest& request, std::ostream& out, std::ostream& err);

struct GenerateRequest {
  std::filesystem::path run;  // a run folder of a language model (a text source's run)
  std::string prompt;         // --prompt: the text generation continues (at least one token)
  std::int64_t tokens = 200;  // --tokens: how many to sample, 1..1,000,000
  double temperature = 1.0;   // --temperature: scores divided by it before the softmax; 0: the most probable
  std::uint64_t seed = 1;     // --seed: the sampling stream (the same seed, the same text)
  bool best = false;          // --best: model-best.safetensors
  PluginOptions plugins;
};
// Prints the prompt, then each sampled token's text as it is drawn.
void run_generate(const GenerateRequest& request, std::ostream& out, std::ostream& err);

struct ExportRequest {
  std::filesystem::path run;  // a run folder
  std::filesystem::path out;  // the .onnx file (default: RUN_DIR/model.onnx, model-best.onnx with best)
  bool best = false;          // --best: model-best.safetensors (keep_best)
  bool force = false;         // --force: replace an existing file
  PluginOptions plugins;
};
// Writes the trained network in inference form as an ONNX model (docs/exporting.md).
void run_export(const ExportRequest& request, std::ostream& out);

struct ServeRequest {
  std::vector<std::filesystem::path> roots;  // folders of run and search folders (default runs/)
  std::string host = "127.0.0.1";
  int port = 6006;  // 0..65535; 0: any free port
  PluginOptions plugins;
};
// `lamina serve`: the dashboard until SIGINT or SIGTERM (docs: README, "The dashboard").
void run_serve(const ServeRequest& request, std::ostream& out);
// The dashboard on a thread of its own while the caller works (`train --serve`); says its URL.
class DashboardThread {
 public:
  DashboardThread(const ServeRequest& request, std::ostream& out);
  ~DashboardThread();
  DashboardThread(const DashboardThread&) = delete;
  DashboardThread& operator=(const DashboardThread&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Prints a checkpoint's tensors (name, shape), or one tensor's values, one per line.
void run_dump(const std::filesystem::path& run, const std::string& tensor, std::ostream& out);

struct PluginsRequest {
  PluginOptions plugins;  // --plugin-dir, --allow-writable-plugins
  std::string type;       // empty: list everything; else describe this type's keys
  bool verbose = false;   // with the list: each plugin's file, origin, owner and mode
};
void run_plugins(const PluginsRequest& request, std::ostream& out);

struct PlotRequest {
  std::vector<std::filesystem::path> runs;  // run folders of `lamina train`
  std::filesystem::path out;                // .png or .svg
  std::string metric = "accuracy";          // accuracy | loss | iterations
  std::string title;
};
// Draws per-epoch train/validation/test curves (or the per-step loss of iterations.csv) of
// one or several runs with gnuplot. Throws InputError for a folder that is not a run.
void run_plot(const PlotRequest& request, std::ostream& out);

struct GraphRequest {
  std::filesystem::path model;         // a model file, or a run folder (its model.yaml)
  std::vector<std::string> overrides;  // --set, as for train
  std::optional<Shape> input_shape;    // --input-shape: size for it without reading the data
  std::filesystem::path out;           // .svg, .png (drawn by Graphviz's dot) or .dot; empty: text only
  PluginOptions plugins;
};
// Prints the model's layers as built (name, type, inputs, output shape, parameters) and draws
// the graph with --out.
void run_graph(const GraphRequest& request, std::ostream& out);

struct CheckRequest {
  std::string type;
  std::vector<std::string> overrides;  // --set key=value, into the type's mapping
  Shape input_shape{5};                // per-sample input (layers), classes (losses), tensor (regularizers)
  std::int64_t batch = 4;              // 1..4096
  std::uint64_t seed = 1;
  // --ids V: a layer's inputs are token ids below V (an embedding), given as values and as
  // Context::input_ids; 0: random floats.
  std::int64_t ids = 0;
  PluginOptions plugins;  // --plugin-dir, --allow-writable-plugins
};
// Conformance checks of one registered type; true when every check passed.
bool run_check(const CheckRequest& request, std::ostream& out);

// Sets the thread count of OpenMP (and so of Eigen's GEMM) for this process; none keeps the
// default. Throws RequestError outside 1..1024.
void set_threads(std::optional<int> threads);

// The folder the dashboard of `train --serve` watches: the run folder's parent (that of --resume
// or --out), else runs/.
std::filesystem::path dashboard_root(const TrainRequest& request);

// How a command runs under mpirun (docs/cluster.md): `train` and `search` on every rank, rank 0
// speaking for the job; any other command once, on rank 0.
struct JobRole {
  bool runs = true;            // this rank runs the command
  bool speaks = true;          // its standard output is the job's
  Cluster* cluster = nullptr;  // for the command's request: the job, when the command is one of its
};
JobRole job_role(Cluster* cluster, bool job_command);
// After a command failed on this rank with `code`: whether its message is printed (before any
// collective call every rank ran the same code on the same flags, so rank 0 alone speaks), and,
// through `settle`, the end of a job whose other ranks do not share the failure (they would wait
// in their next collective call forever).
bool failure_speaks(const Cluster* cluster);
void settle_failure(Cluster* cluster, int code);

}  // namespace lamina
