// The image_folder source end to end: Fashion-MNIST written as PNG folders by
// scripts/image-folders.py (with IDX files of the same images in the folders' order) trains
// byte for byte as the IDX files do; predict on the folder gives the IDX file's scores and
// names each file and class; an RGB JPEG set of another size trains with channels and size.
#define BOOST_TEST_MODULE cli_image_folder
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace lamina::test;

namespace {

const std::string kModel = R"(layers:
  - {type: affine, units: 32, init: he}
  - {type: relu}
  - {type: affine, units: 10, init: he}
loss: {type: softmax_cross_entropy}
optimizer: {type: sgd, lr: 0.1}
train: {epochs: 2, batch_size: 50, seed: 42}
)";

// The weights of a run: the tensors' bytes after the safetensors header.
std::string weights(const fs::path& run) {
  const std::string f = read_file(run / "model.safetensors");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(f[static_cast<std::size_t>(i)]);
  return f.substr(8 + n);
}

}  // namespace

BOOST_AUTO_TEST_CASE(png_folders_train_as_the_idx_files_and_predict_names_the_files) {
  TempDir dir;
  const auto py = run("/usr/bin/python3 " + (fs::path(LAMINA_TEST_SOURCE_DIR) / "scripts/image-folders.py").string() +
                      " png " + (dir / "png").string() + " --train 300 --test 100");
  BOOST_TEST_REQUIRE(py.status == 0, py.output);
  const fs::path d = dir / "png";
  write_file(dir / "folder.yaml", "data: {source: image_folder, train: png/train, test: png/test, validation_split: 0.1}\n" + kModel);
  write_file(dir / "idx.yaml", "data: {source: idx, train_images: png/train-images-idx3-ubyte, train_labels: "
                               "png/train-labels-idx1-ubyte, test_images: png/t10k-images-idx3-ubyte, test_labels: "
                               "png/t10k-labels-idx1-ubyte, validation_split: 0.1}\n" + kModel);
  const auto a = run_lamina("train " + (dir / "folder.yaml").string() + " --no-progress --out " + (dir / "a").string());
  BOOST_TEST_REQUIRE(a.status == 0, a.output);
  const auto b = run_lamina("train " + (dir / "idx.yaml").string() + " --no-progress --out " + (dir / "b").string());
  BOOST_TEST_REQUIRE(b.status == 0, b.output);
  BOOST_TEST(weights(dir / "a") == weights(dir / "b"));
  BOOST_TEST(read_file(dir / "a" / "metrics.csv") == read_file(dir / "b" / "metrics.csv"));
  BOOST_TEST(read_file(dir / "a" / "run.json").find("\"9-ankle-boot\"") != std::string::npos);

  const auto p = run_lamina("predict " + (dir / "a").string() + " --input " + (d / "test").string() + " --out " +
                            (dir / "p.csv").string());
  BOOST_TEST_REQUIRE(p.status == 0, p.output);
  const auto q = run_lamina("predict " + (dir / "b").string() + " --input " + (d / "t10k-images-idx3-ubyte").string() +
                            " --out " + (dir / "q.csv").string());
  BOOST_TEST_REQUIRE(q.status == 0, q.output);
  const auto cut = run("cut -d, -f1,3,5- " + (dir / "p.csv").string() + " > " + (dir / "p2.csv").string());
  BOOST_TEST_REQUIRE(cut.status == 0);
  BOOST_TEST(read_file(dir / "p2.csv") == read_file(dir / "q.csv"));
  const std::string csv = read_file(dir / "p.csv");
  BOOST_TEST(csv.rfind("row,file,class,class_name,p0", 0) == 0);
  BOOST_TEST(csv.find(",0-t-shirt/") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rgb_jpegs_of_another_size_train_with_channels_and_size) {
  TempDir dir;
  const auto py = run("/usr/bin/python3 " + (fs::path(LAMINA_TEST_SOURCE_DIR) / "scripts/image-folders.py").string() +
                      " jpeg " + (dir / "jpg").string() + " --train 200 --test 50 --size 32");
  BOOST_TEST_REQUIRE(py.status == 0, py.output);
  write_file(dir / "gray.yaml", "data: {source: image_folder, train: jpg/train, test: jpg/test, channels: 1, size: [28, 28]}\n" + kModel);
  write_file(dir / "rgb.yaml", "data: {source: image_folder, train: jpg/train, test: jpg/test}\n" + kModel);
  const auto g = run_lamina("train " + (dir / "gray.yaml").string() + " --no-progress --out " + (dir / "g").string());
  BOOST_TEST_REQUIRE(g.status == 0, g.output);
  BOOST_TEST(read_file(dir / "g" / "model.safetensors").find("\"input_shape\":\"[1,28,28]\"") != std::string::npos);
  const auto c = run_lamina("train " + (dir / "rgb.yaml").string() + " --no-progress --out " + (dir / "c").string());
  BOOST_TEST_REQUIRE(c.status == 0, c.output);
  BOOST_TEST(read_file(dir / "c" / "model.safetensors").find("\"input_shape\":\"[3,32,32]\"") != std::string::npos);
  // One JPEG through the gray model: converted and resized as in training.
  const auto one = run("ls " + (dir / "jpg/test/3-dress").string() + " | head -1");
  const fs::path image = dir / "jpg/test/3-dress" / one.output.substr(0, one.output.find('\n'));
  const auto p = run_lamina("predict " + (dir / "g").string() + " --input " + image.string() + " --out " +
                            (dir / "p.csv").string());
  BOOST_TEST_REQUIRE(p.status == 0, p.output);
  BOOST_TEST(read_file(dir / "p.csv").find("\n0," + image.filename().string() + ",") != std::string::npos);
}
