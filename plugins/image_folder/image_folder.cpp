// The `image_folder` data source: PNG and JPEG files in one sub-folder per class, as
// torchvision's ImageFolder and Keras's image_dataset_from_directory read them.
//
//   data: {source: image_folder, train: images/train, test: images/test, channels: 1, size: [28, 28]}
//
// Classes are the training folder's sub-folders in sorted (byte) order; the test folder's
// must be among them. Every image is decoded once, on all threads, and kept as 8-bit planar
// (C, H, W) bytes, the layout IDX images have, so a folder of Fashion-MNIST PNGs trains exactly
// as the IDX files do. `lamina predict --input` takes one image or a folder of them; the
// predictions name each file.
#include <fmt/format.h>
#include <lamina/data_source.hpp>
#include <lamina/named_samples.hpp>
#include <lamina/parallel.hpp>
#include <lamina/plugin.hpp>

#include <fstream>
#include <memory>
#include <optional>

#include "folder_scan.hpp"
#include "image_convert.hpp"
#include "image_decode.hpp"

namespace lamina_image_folder {

using namespace lamina;
namespace fs = std::filesystem;

namespace {

// No PNG or JPEG an image folder holds is near this; a larger file is refused before it is read.
constexpr std::int64_t kMaxFileBytes = 256LL << 20;

std::vector<std::uint8_t> read_file(const ImageFile& f) {
  std::error_code ec;
  const auto size = fs::file_size(f.path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot read the file ({})", f.path.string(), ec.message()));
  if (size == 0) throw InputError(fmt::format("{}: an empty file, not an image", f.path.string()));
  if (static_cast<std::int64_t>(size) > kMaxFileBytes) {
    throw InputError(fmt::format("{}: {} bytes, more than an image file may hold here ({} MB)", f.path.string(), size,
                                 kMaxFileBytes >> 20));
  }
  std::vector<std::uint8_t> bytes(size);
  std::ifstream in(f.path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    throw InputError(fmt::format("{}: cannot read the file", f.path.string()));
  }
  return bytes;
}

// The shape every sample takes: the keys where given, else the first image's.
struct SampleShape {
  std::int64_t channels = 0, height = 0, width = 0;
  bool fixed_size = false;  // `size` given: images are resized; else each must match the first
};

}  // namespace

class ImageFolder final : public DataSource, public NamedSamples {
 public:
  explicit ImageFolder(const Config& c)
      : train_(c.file("train")),
        test_(c.file("test")),
        channels_(c.get<std::int64_t>("channels")),
        max_pixels_(c.get<std::int64_t>("max_pixels")) {
    if (channels_ == 2) c.fail("channels", "is 2; images are read as 1 (gray) or 3 (RGB) channels, or 0 (the first image's)");
    if (c.has("size")) {
      const auto hw = rows_cols(c.sizes("size"));
      size_ = {hw[0], hw[1]};
    }
  }

  SampleSet load(Split split) override {
    if (split == Split::Train) {
      ScannedFolder s = scan_classes(train_, "data.train");
      classes_ = s.classes;
      return read_all(s.files, train_.string());
    }
    if (classes_.empty()) classes_ = scan_classes(train_, "data.train").classes;
    ScannedFolder s = scan_classes(test_, "data.test", &classes_);
    return read_all(s.files, test_.string());
  }

  float default_scale() override { return 1.0f / 255.0f; }

  SampleSet read_inputs(const fs::path& input) override {
    std::vector<ImageFile> files = scan_inputs(input);
    SampleSet set = read_all(files, input.string());
    set.labels.clear();
    names_.clear();
    for (const auto& f : files) names_.push_back(f.name);
    return set;
  }

  std::vector<std::string> class_names() const override { return classes_; }
  std::vector<std::string> input_names() const override { return names_; }

 private:
  // Decodes `files` into one SampleSet: the first image serially (it fixes the shape the keys
  // leave open), the rest on every thread, each into its own slot; the first failure in file
  // order is the one reported, so the message does not depend on the thread count.
  SampleSet read_all(const std::vector<ImageFile>& files, const std::string& origin) {
    const Image first = decode(read_file(files.front()), files.front().path.string(), max_pixels_);
    SampleShape shape{channels_ ? channels_ : first.channels, first.height, first.width, size_.has_value()};
    if (size_) shape.height = size_->first, shape.width = size_->second;
    const std::int64_t per = shape.channels * shape.height * shape.width;
    const auto n = static_cast<std::int64_t>(files.size());

    SampleSet set;
    set.origin = origin;
    set.sample_shape = Shape{shape.channels, shape.height, shape.width};
    set.count = n;
    set.bytes.resize(static_cast<std::size_t>(n * per));
    set.labels.resize(static_cast<std::size_t>(n));
    std::vector<std::string> errors(static_cast<std::size_t>(n));
    auto one = [&](std::int64_t i) {
      const ImageFile& f = files[static_cast<std::size_t>(i)];
      set.labels[static_cast<std::size_t>(i)] = f.label;
      try {
        const Image image = i == 0 ? first : decode(read_file(f), f.path.string(), max_pixels_);
        if (!shape.fixed_size && (image.height != shape.height || image.width != shape.width)) {
          throw InputError(fmt::format("{}: {} x {} pixels, but {} is {} x {}; every image must have the first one's size, "
                                       "or give data.size: [h, w] to resize them",
                                       f.path.string(), image.width, image.height, files.front().path.string(),
                                       shape.width, shape.height));
        }
        to_sample(image, shape.channels, shape.height, shape.width, set.bytes.data() + i * per);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(i)] = e.what();
      }
    };
    // Files differ in cost (a JPEG's size), so threads take small blocks of them in turn.
    const int threads = threads_for(n / 8);
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads) if (threads > 1)
    for (std::int64_t i = 0; i < n; ++i) one(i);
    for (const auto& e : errors) {
      if (!e.empty()) throw InputError(e);
    }
    return set;
  }

  fs::path train_, test_;
  std::int64_t channels_ = 0, max_pixels_ = 0;
  std::optional<std::pair<std::int64_t, std::int64_t>> size_;
  std::vector<std::string> classes_, names_;
};

void register_types(Registrar& r) {
  r.add<DataSource>(
      "image_folder",
      "PNG and JPEG images (8-bit gray or RGB), one sub-folder per class, classes in sorted order; "
      "decoded once on all threads and kept as bytes, samples (channels, height, width)",
      Schema{
          Key::path("train", "folder of training images: one sub-folder per class (sub-folders below it are read too)")
              .required(),
          Key::path("test", "folder of test images, laid out as train; its classes must be among train's").required(),
          Key::integer("channels", "1 (gray: RGB converted by BT.601 luma), 3 (RGB: gray repeated), or 0 for "
                                   "the first image's")
              .def(0)
              .at_least(0)
              .at_most(3),
          Key::sizes("size", "[height, width] every image is resized to (bilinear, pixel centres aligned, as "
                             "OpenCV's INTER_LINEAR); without it every image must have the first one's size")
              .at_least(1)
              .at_most(8192),
          Key::integer("max_pixels", "largest width x height accepted, checked from the header before decoding")
              .def(40'000'000)
              .at_least(1)
              .at_most(1'000'000'000),
      },
      [](const Config& c) { return std::make_unique<ImageFolder>(c); });
}

}  // namespace lamina_image_folder

LAMINA_PLUGIN("image_folder", LAMINA_VERSION_STRING, "PNG/JPEG image folders, one sub-folder per class",
              lamina_image_folder::register_types)
