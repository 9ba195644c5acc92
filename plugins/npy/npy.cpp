// The `npy` data source: NumPy .npy files, so that data prepared in Python trains with no
// conversion. x: uint8 or float32, N x ... (N x H x W images become (1, H, W)), or token ids as
// any other integer dtype, N x T (kept as integers to the first layer); y: the targets,
// their kind read from the array: integers of N (a class) or N x T (a class per position),
// floats of N or N x K (regression), or with `multilabel: true` N x C of 0 and 1.
#include <fmt/format.h>
#include <lamina/data_source.hpp>
#include <lamina/plugin.hpp>

#include <memory>

#include "npy_reader.hpp"

namespace lamina_npy {

using namespace lamina;
namespace fs = std::filesystem;

bool is_bytes(const std::string& descr) { return descr == "|u1" || descr == "u1"; }

class NpySource final : public DataSource {
 public:
  // The files are looked up when read (a missing key fails with the model's file:line): a
  // source built for `lamina predict --input x.npy` names none.
  explicit NpySource(const Config& c) : cfg_(c), multilabel_(c.get<bool>("multilabel")) {}

  SampleSet load(Split split) override {
    const fs::path x = cfg_.file(split == Split::Train ? "train_x" : "test_x");
    const fs::path y = cfg_.file(split == Split::Train ? "train_y" : "test_y");
    // Both splits share one input scale (1/255 for uint8): test samples of another dtype than the
    // training ones would be scaled wrongly (uint8 training, float32 test: accuracy at chance).
    if (split == Split::Test) {
      const fs::path train_x = cfg_.file("train_x");
      const std::string a = read_npy_header(train_x).descr, b = read_npy_header(x).descr;
      if (is_bytes(a) != is_bytes(b)) {
        throw InputError(fmt::format("{} holds samples of dtype '{}' but {} of dtype '{}': both splits are scaled "
                                     "alike, so save them as one dtype (x.astype(numpy.float32) or numpy.uint8)",
                                     x.string(), b, train_x.string(), a));
      }
    }
    SampleSet s = read_npy_samples(x);
    NpyTargets t = read_npy_targets(y, multilabel_);
    s.labels_origin = y.string();
    if (t.count != s.count) {
      throw InputError(fmt::format("{} holds {} samples but {} holds {} labels", x.string(), s.count, y.string(),
                                   t.count));
    }
    s.target_kind = t.kind;
    s.target_width = t.width;
    s.labels = std::move(t.classes);
    s.target_values = std::move(t.values);
    return s;
  }
  // 8-bit pixels are scaled to [0, 1]; float data is taken as it is.
  float default_scale() override {
    return is_bytes(read_npy_header(cfg_.file("train_x")).descr) ? 1.0f / 255.0f : 1.0f;
  }
  SampleSet read_inputs(const fs::path& file) override { return read_npy_samples(file); }

 private:
  Config cfg_;
  bool multilabel_;
};

void register_types(Registrar& r) {
  r.add<DataSource>("npy",
                    "NumPy .npy files: samples uint8 or float32 (N x ...) or integer token ids (N x T), targets integers (N classes, N x T "
                    "classes per position) or floats (N or N x K regression targets)",
                    Schema{
                        Key::path("train_x",
                                  "training samples: uint8 or float32, N x ... in C order, or token ids (int16, int32, "
                                  "int64, ...: N x T, each in [0, 2^31)) (needed to train and evaluate)"),
                        Key::path("train_y",
                                  "training targets: integers >= 0 of N (a class per sample) or N x T (a class per "
                                  "position), or float32/float64 of N or N x K (regression) (needed to train)"),
                        Key::path("test_x", "test samples (needed to train and evaluate)"),
                        Key::path("test_y", "test targets, as train_y (needed to train and evaluate)"),
                        Key::boolean("multilabel", "train_y and test_y are N x C arrays of 0 and 1, one column per label")
                            .def(false),
                    },
                    [](const Config& c) { return std::make_unique<NpySource>(c); });
}

}  // namespace lamina_npy

LAMINA_PLUGIN("npy", LAMINA_VERSION_STRING, "The npy data source (NumPy files)", lamina_npy::register_types)
