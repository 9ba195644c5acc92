// `lamina predict` and `lamina dump`: using a trained run folder outside training.
#include <fmt/format.h>

#include <cmath>
#include <numeric>
#include <ostream>

#include "atomic_file.hpp"
#include "checkpoint.hpp"
#include "ensemble.hpp"
#include "runtime/commands.hpp"
#include "lamina/error.hpp"
#include "runtime/plugin_loader.hpp"
#include "runtime/safetensors.hpp"

namespace fs = std::filesystem;

namespace lamina {

void run_predict(const PredictRequest& req, std::ostream& out, std::ostream& err) {
  if (req.runs.empty()) throw InputError("name at least one run folder");
  Registry registry;
  PluginLoader loader(registry, req.plugins);
  loader.load_search_path();

  // The input: IDX images, or CSV rows of features; scaled as the first run's training data were.
  std::error_code ec;
  if (!fs::is_regular_file(req.input, ec)) throw InputError(fmt::format("{}: no such input file", req.input.string()));
  const fs::path out_dir = req.out.parent_path().empty() ? fs::path(".") : req.out.parent_path();
  if (!fs::is_directory(out_dir, ec)) {
    throw InputError(fmt::format("--out {}: the folder {} does not exist", req.out.string(), out_dir.string()));
  }
  if (fs::is_directory(req.out, ec)) {
    throw InputError(fmt::format("--out {}: is a directory; name the CSV file to write", req.out.string()));
  }
  Samples samples;
  const bool csv = req.input.extension() == ".csv";
  if (csv) {
    samples = read_csv(req.input, -1, "auto");
  } else {
    IdxArray a = read_idx(req.input);
    std::int64_t dim = 1;
    for (std::size_t i = 1; i < a.dims.size(); ++i) dim *= a.dims[i];
    samples.count = a.dims.empty() ? 0 : a.dims[0];
    samples.sample_shape = Shape{dim};
    samples.pixels = std::move(a.data);
    samples.scale = 1.0f / 255.0f;
  }
  if (samples.count == 0) throw InputError(fmt::format("{}: no samples", req.input.string()));
  samples.labels.assign(static_cast<std::size_t>(samples.count), 0);

  std::vector<double> avg;
  std::int64_t classes = 0;
  bool first = true;
  for (const auto& dir : req.runs) {
    if (!fs::exists(dir / "model.yaml"))
      throw InputError(fmt::format("{}: not a run folder (no model.yaml)", dir.string()));
    detail::recover_checkpoint(dir);
    for (const auto& w : detail::check_manifest(dir, registry)) err << dir.string() << ": " << w << std::endl;
    Model model = build_model(ModelFile::load(dir / "model.yaml"), registry);
    if (first) {
      // Inputs are fed exactly as the model was trained, whatever their format: the scaling
      // is part of the model (data.scale, written into model.yaml by `lamina train`).
      samples.scale = req.scale ? *req.scale : trained_scale(model.data);
      first = false;
    }
    DataSplits shape_only;
    shape_only.sample_shape = samples.sample_shape;
    shape_only.max_label = 0;
    try {
      build_network(model, shape_only);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: samples of shape {} do not fit the model of {}: {}", req.input.string(),
                                   samples.sample_shape.str(), dir.string(), e.what()));
    }
    try {
      detail::load_weights(dir, model);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: samples of shape {} do not fit the model of {}: {}", req.input.string(),
                                   samples.sample_shape.str(), dir.string(), e.what()));
    }
    const auto shared = std::make_shared<const Samples>(samples);
    std::vector<std::uint32_t> rows(static_cast<std::size_t>(samples.count));
    std::iota(rows.begin(), rows.end(), 0u);
    DataView view(shared, rows);
    Tensor x;
    std::vector<std::int32_t> labels;
    Rng rng(0);
    Context ctx{Mode::Eval, &rng, false};
    for (std::size_t begin = 0; begin < rows.size(); begin += 1000) {
      std::vector<std::uint32_t> batch(rows.begin() + static_cast<std::ptrdiff_t>(begin),
                                       rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), begin + 1000)));
      view.batch(batch, x, labels);
      const Tensor& scores = model.network.forward(x, ctx);
      if (classes == 0) {
        classes = scores.cols();
        avg.assign(static_cast<std::size_t>(samples.count * classes), 0.0);
      }
      if (scores.cols() != classes) {
        throw InputError(fmt::format("{}: its model gives {} scores per sample, the first run's {}", dir.string(),
                                     scores.cols(), classes));
      }
      detail::add_softmax(scores, 1.0 / static_cast<double>(req.runs.size()),
                          avg.data() + static_cast<std::int64_t>(begin) * classes);
    }
  }
  std::string csv_out = "row,class";
  for (std::int64_t j = 0; j < classes; ++j) csv_out += fmt::format(",p{}", j);
  csv_out += "\n";
  for (std::int64_t i = 0; i < samples.count; ++i) {
    const double* row = avg.data() + i * classes;
    csv_out += fmt::format("{},{}", i, std::max_element(row, row + classes) - row);
    for (std::int64_t j = 0; j < classes; ++j) csv_out += fmt::format(",{:.6f}", row[j]);
    csv_out += "\n";
  }
  detail::write_file_atomic(req.out, csv_out);
  out << fmt::format("wrote {} ({} rows, {} run{})", req.out.string(), samples.count, req.runs.size(),
                     req.runs.size() == 1 ? "" : "s averaged")
      << std::endl;
}

void run_dump(const fs::path& run, const std::string& tensor, std::ostream& out) {
  const SafetensorsFile f = read_safetensors(fs::is_directory(run) ? run / "model.safetensors" : run);
  if (tensor.empty()) {
    for (const auto& [name, t] : f.tensors) out << name << " " << t.shape().str() << "\n";
    for (const auto& [k, v] : f.metadata) out << "# " << k << ": " << v << "\n";
    return;
  }
  auto it = f.tensors.find(tensor);
  if (it == f.tensors.end()) throw InputError(fmt::format("{}: no tensor named '{}'", run.string(), tensor));
  for (float v : it->second.values()) out << fmt::format("{:.9g}\n", v);
}

}  // namespace lamina
