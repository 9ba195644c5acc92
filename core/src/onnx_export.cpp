// `lamina export`: a trained run as an ONNX model in inference form (docs/exporting.md). This
// file is the one owner of the ONNX format (onnx_proto, from Debian's libonnx-dev). Each layer
// writes its own nodes through lamina/onnx.hpp; the host adds the input, the Softmax output,
// the metadata, and checks the result with ONNX's own checker and shape inference before a byte
// is written — a plugin whose export is wrong in shape is named here, not by a runtime later.
#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <bit>
#include <map>
#include <ostream>
#include <set>

#include "atomic_file.hpp"
#include "checkpoint.hpp"
#include "lamina/error.hpp"
#include "lamina/onnx.hpp"
#include "lamina/version.hpp"
#include "run_folder.hpp"
#include "runtime/commands.hpp"
#include "session.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace {

// Opset 13: Softmax over one axis (opset 13's meaning), Gemm, Conv, pooling, BatchNormalization,
// Concat, Sum and Flatten as every runtime has them; OpenCV 4.6's importer (the test's
// reference) reads it.
constexpr int kOpset = 13;
constexpr std::int64_t kIrVersion = 7;  // the IR of opset 13 (ONNX 1.8)
constexpr const char* kBatch = "N";     // the symbolic batch dimension

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");

void set_shape(onnx::ValueInfoProto& v, const std::string& name, const Shape& sample) {
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param(kBatch);
  for (int i = 0; i < sample.rank(); ++i) shape->add_dim()->set_dim_value(sample[i]);
}

// The graph as the layers see it: names made from the current layer's path, every input a
// node reads checked against the values made so far.
class Writer final : public OnnxGraph {
 public:
  explicit Writer(onnx::GraphProto& g) : g_(g) {}

  void begin(std::string path, std::string who) {
    path_ = std::move(path);
    who_ = std::move(who);
  }
  void known(const std::string& name) { names_.insert(name); }

  int opset() const override { return kOpset; }

  std::string constant(std::string_view hint, const Tensor& value) override {
    const std::string name = fresh(fmt::format("{}.{}", path_, hint));
    auto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int i = 0; i < value.rank(); ++i) t->add_dims(value.dim(i));
    t->set_raw_data(std::string(reinterpret_cast<const char*>(value.data()),
                                static_cast<std::size_t>(value.size()) * sizeof(float)));
    return name;
  }

  std::string constant_ints(std::string_view hint, std::span<const std::int64_t> values) override {
    const std::string name = fresh(fmt::format("{}.{}", path_, hint));
    auto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    for (auto v : values) t->add_int64_data(v);
    return name;
  }

  std::string node(std::string_view op, std::vector<std::string> inputs,
                   std::vector<OnnxAttribute> attributes) override {
    if (op.empty()) throw InputError(fmt::format("{}: wrote a node with no op type", who_));
    for (const auto& in : inputs) {
      if (!names_.contains(in)) {
        throw InputError(fmt::format("{}: its ONNX node {} reads '{}', which is not a value of the graph", who_, op,
                                     in));
      }
    }
    const std::string out = fresh(fmt::format("{}/{}", path_, op));
    auto* n = g_.add_node();
    n->set_op_type(std::string(op));
    n->set_name(out);
    for (auto& in : inputs) n->add_input(std::move(in));
    n->add_output(out);
    for (auto& a : attributes) {
      auto* p = n->add_attribute();
      p->set_name(a.name);
      std::visit(
          [&](auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::int64_t>) {
              p->set_type(onnx::AttributeProto::INT);
              p->set_i(v);
            } else if constexpr (std::is_same_v<V, float>) {
              p->set_type(onnx::AttributeProto::FLOAT);
              p->set_f(v);
            } else if constexpr (std::is_same_v<V, std::vector<std::int64_t>>) {
              p->set_type(onnx::AttributeProto::INTS);
              for (auto x : v) p->add_ints(x);
            } else if constexpr (std::is_same_v<V, std::vector<float>>) {
              p->set_type(onnx::AttributeProto::FLOATS);
              for (auto x : v) p->add_floats(x);
            } else {
              p->set_type(onnx::AttributeProto::STRING);
              p->set_s(v);
            }
          },
          a.value);
    }
    return out;
  }

 private:
  // `base`, or base_2, base_3, ... when a layer makes two of a kind.
  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int k = 2; names_.contains(name); ++k) name = fmt::format("{}_{}", base, k);
    names_.insert(name);
    return name;
  }

  onnx::GraphProto& g_;
  std::set<std::string> names_;
  std::string path_;
  std::string who_;
};

// The first line of a message of ONNX's (its shape inference joins one line per node).
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// ONNX's checker on the nodes one layer wrote (from node `first` on): an op the opset does not
// define, a wrong attribute or input count is named by its layer.
void check_nodes(const onnx::GraphProto& g, int first, const std::string& who) {
  onnx::checker::CheckerContext ctx;
  ctx.set_ir_version(static_cast<int>(kIrVersion));
  ctx.set_opset_imports({{"", kOpset}});
  const onnx::checker::LexicalScopeContext scope;
  for (int k = first; k < g.node_size(); ++k) {
    try {
      onnx::checker::check_node(g.node(k), ctx, scope);
    } catch (const std::exception& e) {
      throw InputError(fmt::format("{}: its ONNX node {} is not valid in opset {}: {}", who, g.node(k).op_type(),
                                   kOpset, first_line(e.what())));
    }
  }
}

std::string describe(const Registry& registry, const Network& net, std::size_t i) {
  const TypeInfo* info = registry.find(net.is_merge(i) ? Kind::Merge : Kind::Layer, net.type(i));
  if (info == nullptr) return fmt::format("{} ({})", net.path(i), net.type(i));
  return fmt::format("{} ({}, from plugin {} {}, {})", net.path(i), net.type(i), info->provider.plugin,
                     info->provider.version, info->provider.file);
}

std::string shape_text(const onnx::TensorShapeProto& s) {
  std::string t;
  for (const auto& d : s.dim()) {
    if (!t.empty()) t += ", ";
    t += d.has_dim_value() ? std::to_string(d.dim_value()) : d.dim_param();
  }
  return "(" + t + ")";
}

}  // namespace

void run_export(const ExportRequest& req, std::ostream& out) {
  detail::Session session(req.plugins);
  session.load();
  std::error_code ec;
  if (!fs::is_directory(req.run, ec)) throw InputError(fmt::format("{}: not a run folder", req.run.string()));
  const fs::path target = req.out.empty() ? req.run / (req.best ? "model-best.onnx" : "model.onnx") : req.out;
  if (target.extension() != ".onnx") {
    throw InputError(fmt::format("--out {}: the file must end in .onnx", target.string()));
  }
  const fs::path written = detail::check_output_file(target, "--out");
  // As train refuses an existing run: an exported file is not replaced without being asked.
  if (!req.force && fs::is_regular_file(written, ec)) {
    throw InputError(fmt::format("--out {}: the file exists; pass --force to replace it", target.string()));
  }

  detail::TrainedRun run = detail::open_run(req.run, session.registry, {}, out);
  const fs::path weights = req.run / (req.best ? detail::kBestWeights : "model.safetensors");
  if (!fs::exists(weights, ec)) {
    throw InputError(fmt::format("{}: no {}{}", req.run.string(), weights.filename().string(),
                                 req.best ? " (a keep_best callback writes it)" : " (the run has no checkpoint yet)"));
  }
  const Shape sample = detail::trained_input_shape(weights, "train it again to export it");
  detail::size_and_load(run, sample, weights.string(), req.best);
  Network& net = run.model.network;

  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("lamina");
  model.set_producer_version(LAMINA_VERSION_STRING);
  model.set_doc_string(fmt::format("{} trained by Lamina ({})", run.model.name, fs::absolute(req.run).string()));
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name(run.model.name.empty() ? "lamina" : run.model.name);
  set_shape(*g.add_input(), "input", net.input_shape());

  Writer writer(g);
  writer.known("input");
  std::vector<std::string> outputs(net.size());
  for (std::size_t i = 0; i < net.size(); ++i) {
    const std::string who = describe(session.registry, net, i);
    const OnnxExportable* exportable =
        net.is_merge(i) ? dynamic_cast<const OnnxExportable*>(net.merge(i)) : dynamic_cast<const OnnxExportable*>(net.layer(i));
    if (exportable == nullptr) {
      throw InputError(fmt::format("{}: this type cannot be exported to ONNX (it does not implement "
                                   "lamina::OnnxExportable; docs/writing-plugins.md, \"ONNX export\")",
                                   who));
    }
    std::vector<OnnxValue> inputs;
    for (int j : net.inputs(i)) {
      if (j == Network::kInput) {
        inputs.push_back({"input", net.input_shape()});
      } else {
        inputs.push_back({outputs[static_cast<std::size_t>(j)], net.output_shape(static_cast<std::size_t>(j))});
      }
    }
    writer.begin(net.path(i), who);
    const int first_node = g.node_size();
    try {
      outputs[i] = exportable->export_onnx(writer, inputs);
    } catch (const InputError&) {
      throw;  // the writer's own messages already name the layer
    } catch (const std::exception& e) {
      throw InputError(fmt::format("{}: its ONNX export failed: {}", who, e.what()));
    } catch (...) {
      throw InputError(fmt::format("{}: its ONNX export threw a non-standard exception", who));
    }
    check_nodes(g, first_node, who);
  }
  // What `lamina predict` gives, by the kind of target the run was trained on: class
  // probabilities (a softmax over the classes: of each sample, or of each position), a
  // probability per label (a sigmoid per score), or the regression outputs as they are.
  const Shape scores = net.output_shape(net.size() - 1);
  const TargetKind kind = run.model.target_kind;
  const bool regression = kind == TargetKind::Regression;
  const std::string output = regression ? "outputs" : "probabilities";
  writer.begin("output", "the output");
  if (kind == TargetKind::MultiLabel) {
    writer.node("Sigmoid", {outputs.back()}, {});
  } else if (regression) {
    writer.node("Identity", {outputs.back()}, {});
  } else {
    writer.node("Softmax", {outputs.back()}, {{"axis", std::int64_t{scores.rank()}}});
  }
  g.mutable_node(g.node_size() - 1)->set_output(0, output);
  set_shape(*g.add_output(), output, scores);

  const auto meta = [&](const std::string& k, const std::string& v) {
    auto* p = model.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  };
  meta("lamina.model", run.model.name);
  meta("lamina.run", fs::absolute(req.run).string());
  meta("lamina.weights", weights.filename().string());
  std::string dims = "N";
  for (int k = 0; k < sample.rank(); ++k) dims += fmt::format(" x {}", sample[k]);
  meta("lamina.input", fmt::format("input: float32 {}, the samples already multiplied by lamina.input_scale", dims));
  meta("lamina.input_scale", fmt::format("{:.9g}", trained_scale(run.model.data)));
  std::string out_dims = "N";
  for (int k = 0; k < scores.rank(); ++k) out_dims += fmt::format(" x {}", scores[k]);
  meta("lamina.targets", target_kind_name(kind));
  meta("lamina.output", fmt::format("{}: float32 {}, {}", output, out_dims,
                                    regression                         ? "the regression outputs"
                                    : kind == TargetKind::MultiLabel   ? "the sigmoid of each label's score"
                                    : kind == TargetKind::ClassPerPosition ? "the softmax of the scores at each position"
                                                                           : "the softmax of the scores"));
  if (!regression) meta("lamina.classes", std::to_string(scores[scores.rank() - 1]));

  // Each layer's output has the shape the layer gives: a wrong export is named by its layer,
  // the first in file order (shape inference, lenient here, carries on past a bad node).
  try {
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception&) {
    // reported by the strict pass below
  }
  std::map<std::string, const onnx::TensorShapeProto*> inferred;
  for (const auto& v : g.value_info()) inferred[v.name()] = &v.type().tensor_type().shape();
  for (std::size_t i = 0; i < net.size(); ++i) {
    const auto it = inferred.find(outputs[i]);
    if (it == inferred.end()) continue;
    onnx::ValueInfoProto want;
    set_shape(want, outputs[i], net.output_shape(i));
    const auto& w = want.type().tensor_type().shape();
    bool same = it->second->dim_size() == w.dim_size();
    for (int d = 1; same && d < w.dim_size(); ++d) {
      same = !it->second->dim(d).has_dim_value() || it->second->dim(d).dim_value() == w.dim(d).dim_value();
    }
    if (!same) {
      throw InputError(fmt::format("{}: its ONNX nodes give {} per batch, but the layer gives {}",
                                   describe(session.registry, net, i), shape_text(*it->second), shape_text(w)));
    }
  }
  g.clear_value_info();  // inferred again by any reader; not part of the format's promise
  // ONNX's own verdict on the whole file, strict, before anything is written.
  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: the exported graph is not valid ONNX: {}", req.run.string(), first_line(e.what())));
  }
  g.clear_value_info();

  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error(fmt::format("{}: cannot serialize the ONNX model", target.string()));
  detail::write_output_file(target, bytes, "--out");
  out << fmt::format("wrote {} ({} layers, {} parameters, opset {}; input {}, output {} {})", target.string(),
                     net.size(), net.parameter_count(), kOpset, dims, output, out_dims)
      << std::endl;
}

}  // namespace lamina
