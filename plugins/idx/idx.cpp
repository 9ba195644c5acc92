// The IDX data sources: `idx` (four files named in the model) and `fashion_mnist` (the four
// files of Debian's dataset-fashion-mnist, found in a folder). Images arrive as (1, H, W),
// bytes scaled by 1/255 unless the model says otherwise.
#include <fmt/format.h>
#include <lamina/data_source.hpp>
#include <lamina/plugin.hpp>

#include <memory>

#include "idx_reader.hpp"

namespace lamina_idx {

using namespace lamina;
namespace fs = std::filesystem;

class IdxSource : public DataSource {
 public:
  float default_scale() override { return 1.0f / 255.0f; }
  SampleSet read_inputs(const fs::path& file) override { return samples_of(read_idx(file), file); }
};

class IdxFiles final : public IdxSource {
 public:
  explicit IdxFiles(const Config& c)
      : files_{c.file("train_images"), c.file("train_labels"), c.file("test_images"), c.file("test_labels")} {}
  SampleSet load(Split split) override {
    return split == Split::Train ? read_idx_pair(files_[0], files_[1]) : read_idx_pair(files_[2], files_[3]);
  }

 private:
  fs::path files_[4];
};

class FashionMnist final : public IdxSource {
 public:
  explicit FashionMnist(const Config& c) : dir_(c.file("dir")) {}
  SampleSet load(Split split) override {
    const char* prefix = split == Split::Train ? "train" : "t10k";
    return read_idx_pair(find(fmt::format("{}-images-idx3-ubyte", prefix)),
                         find(fmt::format("{}-labels-idx1-ubyte", prefix)));
  }

 private:
  fs::path find(const std::string& stem) const {
    std::error_code ec;
    for (const char* ext : {".gz", ""}) {
      fs::path p = dir_ / (stem + ext);
      if (fs::exists(p, ec)) return p;
    }
    throw InputError(
        fmt::format("Fashion-MNIST not found: {} has no {}(.gz). Install Debian's package with "
                    "`apt-get install dataset-fashion-mnist`, or point data.dir at a folder holding the four IDX files",
                    dir_.string(), stem));
  }
  fs::path dir_;
};

void register_types(Registrar& r) {
  r.add<DataSource>(
      "idx", "IDX files (MNIST's format, plain or .gz): unsigned-byte images N x H x W, labels N",
      Schema{
          Key::path("train_images", "training images (IDX, unsigned bytes, N x H x W or N x C x H x W or N x D)")
              .required(),
          Key::path("train_labels", "training labels (IDX, unsigned bytes, N)").required(),
          Key::path("test_images", "test images").required(),
          Key::path("test_labels", "test labels").required(),
      },
      [](const Config& c) { return std::make_unique<IdxFiles>(c); });
  r.add<DataSource>("fashion_mnist",
                    "Fashion-MNIST (Debian's dataset-fashion-mnist): 60,000 + 10,000 images of (1, 28, 28), "
                    "10 classes; also spelled fashion-mnist",
                    Schema{Key::path("dir", "folder holding the four IDX files (plain or .gz)")
                               .def("/usr/share/datasets/fashion-mnist")},
                    [](const Config& c) { return std::make_unique<FashionMnist>(c); });
}

}  // namespace lamina_idx

LAMINA_PLUGIN("idx", LAMINA_VERSION_STRING, "IDX data sources: idx files and Fashion-MNIST",
              lamina_idx::register_types)
