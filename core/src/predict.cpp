// `lamina predict` and `lamina dump`: using a trained run folder outside training.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <ostream>
#include <sstream>

#include "runtime/plugin_guard.hpp"
#include "atomic_file.hpp"
#include "checkpoint.hpp"
#include "config_impl.hpp"
#include "ensemble.hpp"
#include "run_folder.hpp"
#include "session.hpp"
#include "runtime/commands.hpp"
#include "lamina/error.hpp"
#include "lamina/named_samples.hpp"
#include "runtime/plugin_loader.hpp"
#include "runtime/safetensors.hpp"

namespace fs = std::filesystem;

namespace lamina {

namespace {

// A CSV field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char ch : text) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// The predictions file, by what the model predicts:
//   a class (or class probabilities): row,class,p0,...   the most probable class and every probability
//   a class per position: row,position,class,p0,...   one line per position
//   multi-label:          row,labels,p0,...    the labels of probability >= 0.5 ("1 4"), then each
//   regression:           row,y0,...           the outputs
// With the input's sample names (an image folder's files), a `file` column follows `row`; with
// the run's class names, a `class_name` column follows `class`.
std::string prediction_csv(const detail::Ensemble& e, TargetKind kind, const Shape& output,
                           const std::vector<std::string>& files, const std::vector<std::string>& class_names) {
  std::string csv;
  const std::int64_t c = output[output.rank() - 1];
  const bool named = static_cast<std::int64_t>(class_names.size()) == c;
  auto probabilities = [&](const double* p) {
    for (std::int64_t j = 0; j < c; ++j) csv += fmt::format(",{:.6f}", p[j]);
    csv += "\n";
  };
  auto row_start = [&](std::int64_t i) {
    csv += std::to_string(i);
    if (!files.empty()) csv += "," + csv_field(files[static_cast<std::size_t>(i)]);
  };
  auto class_of = [&](std::int64_t k) {
    csv += fmt::format(",{}", k);
    if (named) csv += "," + csv_field(class_names[static_cast<std::size_t>(k)]);
  };
  const bool classes = kind == TargetKind::Class || kind == TargetKind::ClassProbabilities;
  csv += files.empty() ? "row" : "row,file";
  csv += classes                                ? (named ? ",class,class_name" : ",class")
         : kind == TargetKind::ClassPerPosition ? (named ? ",position,class,class_name" : ",position,class")
         : kind == TargetKind::MultiLabel       ? ",labels"
                                                : "";
  for (std::int64_t j = 0; j < c; ++j) {
    csv += kind == TargetKind::Regression ? ",y" : ",p";
    csv += std::to_string(j);
  }
  csv += "\n";
  for (std::int64_t i = 0; i < e.samples(); ++i) {
    const double* row = e.row(i);
    switch (kind) {
      case TargetKind::Class:
      case TargetKind::ClassProbabilities:
        row_start(i);
        class_of(e.predicted(i));
        probabilities(row);
        break;
      case TargetKind::ClassPerPosition:
        for (std::int64_t t = 0; t < e.classes() / c; ++t) {
          const double* p = row + t * c;
          row_start(i);
          csv += fmt::format(",{}", t);
          class_of(std::max_element(p, p + c) - p);
          probabilities(p);
        }
        break;
      case TargetKind::MultiLabel: {
        std::string labels;
        for (std::int64_t j = 0; j < c; ++j) {
          if (row[j] >= 0.5) labels += fmt::format("{}{}", labels.empty() ? "" : " ", j);
        }
        row_start(i);
        csv += "," + labels;
        probabilities(row);
        break;
      }
      case TargetKind::Regression:
        row_start(i);
        for (std::int64_t j = 0; j < c; ++j) csv += fmt::format(",{:.9g}", row[j]);
        csv += "\n";
        break;
    }
  }
  return csv;
}

// The class names a run's data source gave (run.json's class_names), or none.
std::vector<std::string> run_class_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_regular_file(dir / "run.json", ec)) return names;
  try {
    const auto j = nlohmann::json::parse(detail::read_whole_file(dir / "run.json", "the run's record", 1 << 24));
    if (j.contains("class_names") && j["class_names"].is_array()) {
      for (const auto& n : j["class_names"]) names.push_back(n.is_string() ? n.get<std::string>() : std::string());
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not a run record ({})", (dir / "run.json").string(), e.what()));
  }
  return names;
}

}  // namespace

void run_predict(const PredictRequest& req, std::ostream& out, std::ostream& err) {
  if (req.runs.empty()) throw InputError("name at least one run folder");
  if (req.scale && !(*req.scale > 0 && *req.scale < 1e30)) throw RequestError("--scale must be a positive number");
  detail::Session session(req.plugins);
  session.load();

  std::error_code ec;
  const bool folder = fs::is_directory(req.input, ec);
  if (!folder && !fs::is_regular_file(req.input, ec)) {
    throw InputError(fmt::format("{}: no such input file", req.input.string()));
  }
  detail::check_output_file(req.out, "--out");
  // The input is read by a data source: the one --format names, else the one named by the
  // file's extension (x.csv: `csv`, x.npy: `npy`) when such a source is loaded, else the first
  // run's own (its format: IDX images for fashion_mnist).
  detail::TrainedRun first_run = detail::open_run(req.runs.front(), session.registry, {}, err);
  std::shared_ptr<DataSource> reader = first_run.model.data.reader;
  std::string format = req.format;
  if (format.empty() && req.input.has_extension()) {
    const std::string ext = req.input.extension().string().substr(1);
    if (session.registry.find(Kind::DataSource, ext) != nullptr) format = ext;
  }
  if (!format.empty() && format != first_run.model.data.source) {
    auto flag = std::make_shared<Source>();
    flag->file = "--format";
    const Config spec = detail::unbound(YAML::Node(YAML::NodeType::Map), flag, "", &session.registry);
    const Config bound = session.registry.bind(Kind::DataSource, spec, {}, "source", format);
    reader.reset(static_cast<DataSource*>(session.registry.create_bound(Kind::DataSource, bound).release()));
    format = bound.type();
  } else {
    format = first_run.model.data.source;
  }
  const TypeInfo* reader_info = session.registry.find(Kind::DataSource, format);
  const detail::PluginSite reader_site{"--input", format, reader_info ? reader_info->provider.plugin : "",
                                       reader_info ? reader_info->provider.file : ""};
  // A folder of inputs is for a source that names its samples (an image folder's files).
  const auto* named = dynamic_cast<const NamedSamples*>(reader.get());
  if (folder && !named) {
    throw InputError(fmt::format("{}: a folder, but {} reads files: name one", req.input.string(), format));
  }
  SampleSet samples = detail::plugin_call(reader_site, "read_inputs", [&] { return reader->read_inputs(req.input); });
  std::vector<std::string> files;
  if (named) files = detail::plugin_call(reader_site, "input_names", [&] { return named->input_names(); });
  if (!files.empty() && static_cast<std::int64_t>(files.size()) != samples.count) {
    throw InputError(fmt::format("--input ({} from plugin '{}'): input_names gave {} names for {} samples", format,
                                 reader_site.plugin, files.size(), samples.count));
  }
  check_samples(samples, format, false);
  if (samples.count == 0) throw InputError(fmt::format("{}: no samples", req.input.string()));
  // Inputs are fed exactly as the model was trained, whatever their format: the scaling is part
  // of the model (data.scale, written into model.yaml by `lamina train`).
  const float scale = req.scale ? static_cast<float>(*req.scale) : trained_scale(first_run.model.data);
  // 8-bit training data are scaled by 1/255; a float input scaled so is scaled wrongly when it
  // already lies in [0, 1] (one class for every row), and the other way round. Said (once the
  // predictions are written: an input refused for another reason gets that message alone), not
  // guessed.
  std::ostringstream scale_warning;
  if (!req.scale) {
    const bool eight_bit_run = std::abs(scale - 1.0f / 255.0f) < 1e-9f;
    const bool float_input = samples.bytes.empty();
    if (eight_bit_run && float_input) {
      scale_warning << fmt::format("warning: {} holds float values, but the run was trained on 8-bit data and scales every "
                         "input by 1/255; pass --scale 1 if these are already scaled as its training data were",
                         req.input.string())
          << std::endl;
    } else if (!eight_bit_run && !float_input && scale == 1.0f) {
      scale_warning << fmt::format("warning: {} holds 8-bit values, but the run was trained on data it did not scale; pass "
                         "--scale 0.00392156863 (1/255) if its training data were these bytes scaled to [0, 1]",
                         req.input.string())
          << std::endl;
    }
  }
  const auto shared = std::make_shared<const SampleSet>(std::move(samples));
  std::vector<std::uint32_t> rows(static_cast<std::size_t>(shared->count));
  std::iota(rows.begin(), rows.end(), 0u);
  const DataView view(shared, rows, scale);

  std::optional<detail::Ensemble> ensemble;
  TargetKind kind = TargetKind::Class;
  Shape output;  // per sample
  for (const auto& dir : req.runs) {
    detail::TrainedRun run =
        &dir == &req.runs.front() ? std::move(first_run) : detail::open_run(dir, session.registry, {}, err);
    detail::size_and_load(run, shared->sample_shape, req.input.string(), req.best);
    if (!ensemble) {
      kind = run.model.target_kind;
      output = run.model.network.output_shape(run.model.network.size() - 1);
      ensemble.emplace(req.runs.size(), shared->count, kind);
    } else if (run.model.target_kind != kind) {
      throw InputError(fmt::format("{}: trained on {} targets, but {} on {}: an ensemble's members predict alike",
                                   dir.string(), target_kind_name(run.model.target_kind), req.runs.front().string(),
                                   target_kind_name(kind)));
    }
    Tensor x;
    BatchTargets unused;  // prediction inputs have no targets
    std::vector<std::int32_t> ids;  // token data: exact, for Context::input_ids
    Rng rng(0);
    Context ctx{Mode::Eval, &rng, false};
    for (std::size_t begin = 0; begin < rows.size(); begin += 1000) {
      std::vector<std::uint32_t> batch(rows.begin() + static_cast<std::ptrdiff_t>(begin),
                                       rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), begin + 1000)));
      view.batch(batch, x, unused, &ids);
      ctx.input_ids = ids;
      ensemble->add(dir, run.model.network.forward(x, ctx), static_cast<std::int64_t>(begin));
    }
  }
  const std::string csv_out = prediction_csv(*ensemble, kind, output, files, run_class_names(req.runs.front()));
  detail::write_output_file(req.out, csv_out, "--out");
  err << scale_warning.str();
  out << fmt::format("wrote {} ({} rows, {} run{})", req.out.string(), shared->count, req.runs.size(),
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
