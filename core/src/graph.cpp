// `lamina graph`: what a model file (or a run's model.yaml) describes, sized for its data: one
// line per layer on stdout (index, name, type, inputs, output shape, parameters) and, with
// --out, a picture drawn by Graphviz's dot (Debian's graphviz), or the DOT text itself.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <map>
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

// What train.params made of the layer's tensors: "" when nothing, "frozen" when all of them
// are, else each changed tensor ("W frozen", "b lr x0.1 decay x0").
std::string training_flags(Network& net, std::size_t i) {
  const auto params = net.params(i);
  if (params.empty()) return "";
  if (std::all_of(params.begin(), params.end(), [](const Param& p) { return !p.trainable; })) return "frozen";
  std::string s;
  for (const Param& p : params) {
    std::string f;
    if (!p.trainable) {
      f = " frozen";
    } else {
      if (p.lr_mult != 1.0f) f += fmt::format(" lr x{:g}", p.lr_mult);
      if (p.decay_mult != 1.0f) f += fmt::format(" decay x{:g}", p.decay_mult);
    }
    if (f.empty()) continue;
    const std::string local = p.name.substr(p.name.rfind('.') + 1);
    s += (s.empty() ? "" : ", ") + local + f;
  }
  return s;
}

std::string dot_text(Model& m) {
  Network& net = m.network;
  std::string dot = fmt::format(
      "digraph {} {{\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#e8eef8\", "
      "fontname=\"sans\", fontsize=10];\n  edge [color=\"#555555\"];\n",
      dot_quote(m.name));
  dot += fmt::format("  input [label={}, fillcolor=\"#dddddd\"];\n",
                     dot_quote("input\n" + net.input_shape().str()));
  // Each block use a cluster, nested as the uses are (stage2 > stage2.b1); a block's layers are
  // contiguous in the expanded list, so a stack of open clusters follows the file.
  const std::map<std::string, std::string> type_of(m.block_uses.begin(), m.block_uses.end());
  std::vector<std::string> open;
  std::size_t clusters = 0;
  for (std::size_t i = 0; i < net.size(); ++i) {
    std::vector<std::string> chain;
    const std::string& scope = m.layer_blocks[i];
    for (std::size_t at = scope.find('.'); !scope.empty(); at = scope.find('.', at + 1)) {
      chain.push_back(scope.substr(0, at));
      if (at == std::string::npos) break;
    }
    std::size_t common = 0;
    while (common < open.size() && common < chain.size() && open[common] == chain[common]) ++common;
    for (; open.size() > common; open.pop_back()) dot += "  }\n";
    for (; open.size() < chain.size(); open.push_back(chain[open.size()])) {
      const std::string& use = chain[open.size()];
      const auto t = type_of.find(use);
      dot += fmt::format("  subgraph cluster_{} {{\n  label={}; style=\"rounded\"; color=\"#8aa4c8\"; fontname=\"sans\"; "
                         "fontsize=10;\n",
                         clusters++, dot_quote(t == type_of.end() ? use : use + " (" + t->second + ")"));
    }
    const std::string& name = m.layer_names[i];
    std::string label = net.path(i) + (name.empty() ? "" : " " + name) + "\n" + net.type(i) + "\n" +
                        net.output_shape(i).str();
    if (const auto p = parameters_of(net, i); p > 0) label += fmt::format("\n{} parameters", p);
    const std::string flags = training_flags(net, i);
    if (!flags.empty()) label += "\n" + flags;
    // Frozen layers grey, scaled ones pale green: what the fine-tuning changes shows at a glance.
    const char* fill = net.is_merge(i) ? ", shape=ellipse, fillcolor=\"#fbe3c4\""
                       : flags == "frozen" ? ", fillcolor=\"#dddddd\""
                       : !flags.empty()    ? ", fillcolor=\"#dff0d8\""
                                           : "";
    dot += fmt::format("  n{} [label={}{}];\n", i, dot_quote(label), fill);
  }
  for (; !open.empty(); open.pop_back()) dot += "  }\n";
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
  bool any_flags = false;
  for (std::size_t i = 0; i < net.size(); ++i) any_flags = any_flags || !training_flags(net, i).empty();
  std::size_t width = 12;  // the name column: as wide as the longest (blocks scope names: stage2.b1.conv1)
  for (const auto& n : m.layer_names) width = std::max(width, n.size());
  out << fmt::format("  {:<10} {:<{}} {:<16} {:<20} {:>9}  {}", "layer", "name", width, "type", "output", "params",
                     any_flags ? "training (train.params); inputs (when not the layer above)"
                               : "inputs (when not the layer above)")
      << "\n";
  for (std::size_t i = 0; i < net.size(); ++i) {
    const bool chained = net.inputs(i).size() == 1 && net.inputs(i)[0] == static_cast<int>(i) - 1;
    out << fmt::format("  {:<10} {:<{}} {:<16} {:<20} {:>9}", net.path(i), m.layer_names[i], width, net.type(i),
                       net.output_shape(i).str(), parameters_of(net, i));
    if (const std::string flags = training_flags(net, i); !flags.empty()) out << "  [" << flags << "]";
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
