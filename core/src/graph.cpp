// `lamina graph`: what a model file (or a run's model.yaml) describes, sized for its data: one
// line per layer on stdout (index, name, type, inputs, output shape, parameters) and, with
// --out, a picture drawn by Graphviz's dot (Debian's graphviz), or the DOT text itself.
#include <fmt/format.h>
#include <sys/wait.h>

#include <ostream>

#include "atomic_file.hpp"
#include "external_program.hpp"
#include "lamina/error.hpp"
#include "runtime/commands.hpp"
#include "runtime/model.hpp"
#include "session.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace {

std::string dot_quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return q + "\"";
}

std::string input_label(Network& net, std::size_t i, const std::vector<std::string>& names) {
  std::string s;
  for (int j : net.inputs(i)) {
    if (!s.empty()) s += ", ";
    s += j == Network::kInput ? std::string("input")
                              : (names[static_cast<std::size_t>(j)].empty() ? net.path(static_cast<std::size_t>(j))
                                                                            : names[static_cast<std::size_t>(j)]);
  }
  return s;
}

std::int64_t parameters_of(Network& net, std::size_t i) {
  std::int64_t n = 0;
  for (const auto& p : net.params(i)) n += p.value.size();
  return n;
}

std::string dot_text(Model& m) {
  Network& net = m.network;
  std::string dot = fmt::format(
      "digraph {} {{\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#e8eef8\", "
      "fontname=\"sans\", fontsize=10];\n  edge [color=\"#555555\"];\n",
      dot_quote(m.name));
  dot += fmt::format("  input [label={}, fillcolor=\"#dddddd\"];\n",
                     dot_quote("input\n" + net.input_shape().str()));
  for (std::size_t i = 0; i < net.size(); ++i) {
    const std::string& name = m.layer_names[i];
    std::string label = net.path(i) + (name.empty() ? "" : " " + name) + "\n" + net.type(i) + "\n" +
                        net.output_shape(i).str();
    if (const auto p = parameters_of(net, i); p > 0) label += fmt::format("\n{} parameters", p);
    dot += fmt::format("  n{} [label={}{}];\n", i, dot_quote(label),
                       net.is_merge(i) ? ", shape=ellipse, fillcolor=\"#fbe3c4\"" : "");
  }
  for (std::size_t i = 0; i < net.size(); ++i) {
    for (int j : net.inputs(i)) {
      dot += fmt::format("  {} -> n{};\n", j == Network::kInput ? std::string("input") : fmt::format("n{}", j), i);
    }
  }
  return dot + "}\n";
}

}  // namespace

void run_graph(const GraphRequest& req, std::ostream& out) {
  detail::Session session(req.plugins);
  session.load();
  const bool run = fs::is_directory(req.model);
  const fs::path file = run ? req.model / "model.yaml" : req.model;
  if (run && !fs::exists(file)) throw InputError(fmt::format("{}: not a run folder (no model.yaml)", req.model.string()));
  Model m = build_model(ModelFile::load(file, req.overrides), session.registry, run);

  std::string target;
  if (!req.out.empty()) {
    target = req.out.extension().string();
    if (target != ".svg" && target != ".png" && target != ".dot") {
      throw InputError(fmt::format("--out {}: the picture must end in .svg, .png or .dot", req.out.string()));
    }
  }

  // Sized for the data the model names, or for --input-shape without reading any.
  DataSplits splits;
  if (req.input_shape) {
    splits.sample_shape = *req.input_shape;
    splits.max_label = 0;
  } else {
    splits = load_data(m.data, m.train.seed);
  }
  build_network(m, splits, !req.input_shape);

  Network& net = m.network;
  out << fmt::format("{}: {} layers, {} parameters, input {}", m.name, net.size(), net.parameter_count(),
                     net.input_shape().str())
      << "\n";
  out << fmt::format("  {:<10} {:<12} {:<16} {:<20} {:>9}  {}", "layer", "name", "type", "output", "params",
                     "inputs (when not the layer above)")
      << "\n";
  for (std::size_t i = 0; i < net.size(); ++i) {
    const bool chained = net.inputs(i).size() == 1 && net.inputs(i)[0] == static_cast<int>(i) - 1;
    out << fmt::format("  {:<10} {:<12} {:<16} {:<20} {:>9}", net.path(i), m.layer_names[i], net.type(i),
                       net.output_shape(i).str(), parameters_of(net, i));
    if (!chained) out << "  " << input_label(net, i, m.layer_names);
    out << "\n";
  }
  if (req.out.empty()) return;

  const std::string dot = dot_text(m);
  if (target == ".dot") {
    detail::write_file_atomic(req.out, dot);
  } else {
    const fs::path tmp = detail::temp_name(req.out);
    const auto [status, printed] =
        detail::run_program("dot", {"-T" + target.substr(1), "-o", tmp.string()}, dot,
                            "Graphviz is not installed (or `dot` is not on PATH): apt-get install graphviz, "
                            "or write --out FILE.dot");
    std::error_code ec;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::exists(tmp)) {
      fs::remove(tmp, ec);
      throw Error(fmt::format("dot failed to draw {}: {}", req.out.string(), detail::tail_lines(printed, 5)));
    }
    fs::rename(tmp, req.out, ec);
    if (ec) throw Error(fmt::format("{}: cannot write: {}", req.out.string(), ec.message()));
  }
  out << fmt::format("wrote {}", req.out.string()) << std::endl;
}

}  // namespace lamina
