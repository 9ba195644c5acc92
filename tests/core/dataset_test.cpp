// IDX and CSV readers, splits and batches. Broken files are written by each case.
#define BOOST_TEST_MODULE dataset
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include "runtime/dataset.hpp"
#include <lamina/error.hpp>

#include "test_support.hpp"

using namespace lamina;
using namespace lamina::test;

namespace {

std::string idx_bytes(std::vector<std::uint32_t> dims, const std::string& data, std::uint8_t type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (auto d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  return s + data;
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_plain_and_gzip_idx_alike) {
  const IdxArray plain = read_idx(kDataDir / "tiny-images-idx3-ubyte");
  const IdxArray gz = read_idx(kDataDir / "tiny-images-idx3-ubyte.gz");
  BOOST_TEST(plain.dims == (std::vector<std::int64_t>{6, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(plain.data == gz.data);
  BOOST_TEST(plain.data.size() == 36u);
  BOOST_TEST(plain.data[5] == 35);
}

BOOST_AUTO_TEST_CASE(pairs_images_with_labels_and_scales_batches) {
  Samples s = read_idx_pair(kDataDir / "tiny-images-idx3-ubyte.gz", kDataDir / "tiny-labels-idx1-ubyte");
  BOOST_TEST(s.count == 6);
  BOOST_TEST(s.sample_shape.str() == "(6)");
  BOOST_TEST((s.labels == std::vector<std::int32_t>{0, 1, 2, 0, 1, 2}));
  DataView view(std::make_shared<Samples>(std::move(s)), {5, 1});
  Tensor x;
  std::vector<std::int32_t> y;
  const std::vector<std::uint32_t> rows{1, 0};
  view.batch(rows, x, y);
  BOOST_TEST(x.shape().str() == "(2, 6)");
  BOOST_TEST((y == std::vector<std::int32_t>{1, 2}));
  // Row 1 of the file starts at byte 6: 42 / 255.
  BOOST_TEST(x[0] == 42.0f * (1.0f / 255.0f));
  BOOST_TEST(x[6] == static_cast<float>((5 * 6 * 7) % 256) * (1.0f / 255.0f));
}

BOOST_AUTO_TEST_CASE(bad_idx_files_name_the_file_and_the_problem) {
  TempDir dir;
  const auto f = dir / "bad";
  write_file(f, "");
  BOOST_TEST(error_of([&] { read_idx(f); }) == f.string() + ": empty file, expected an IDX header");
  write_file(f, "PK\x03\x04 not idx");
  BOOST_TEST(error_of([&] { read_idx(f); }) == f.string() + ": not an IDX file (bad magic number 50 4b 03 04)");
  write_file(f, idx_bytes({2}, "ab", 0x0d));
  BOOST_TEST(error_of([&] { read_idx(f); }) ==
             f.string() + ": IDX element type 0x0d is not supported (only unsigned bytes, 0x08)");
  write_file(f, idx_bytes({4, 2}, "abc"));
  BOOST_TEST(error_of([&] { read_idx(f); }) ==
             f.string() + ": truncated: the header declares 8 bytes of data, the file holds 3");
  write_file(f, idx_bytes({2}, "abc"));
  BOOST_TEST(error_of([&] { read_idx(f); }) == f.string() + ": has bytes past the 2 declared by its header");
  write_file(f, std::string("\0\0\x08\x02\0\0", 6));
  BOOST_TEST(error_of([&] { read_idx(f); }) == f.string() + ": truncated IDX header");
  // A header claiming 4e9 x 4e9 bytes is refused without allocating them.
  write_file(f, idx_bytes({0xffffffffu, 0xffffffffu}, "x"));
  BOOST_TEST(error_of([&] { read_idx(f); }) == f.string() + ": IDX header declares more than 2^34 elements");
  // A header that lies by a gigabyte fails as truncated, having read only what is there.
  write_file(f, idx_bytes({1u << 30}, "xyz"));
  BOOST_TEST(error_of([&] { read_idx(f); }).find("truncated") != std::string::npos);
  BOOST_TEST(error_of([&] { read_idx(dir / "missing"); }) == (dir / "missing").string() + ": no such file");
  BOOST_TEST(error_of([&] { read_idx(dir.path()); }) == dir.path().string() + ": is a directory, not a data file");
}

BOOST_AUTO_TEST_CASE(corrupt_gzip_is_an_input_error) {
  TempDir dir;
  std::string gz = read_file(kDataDir / "tiny-images-idx3-ubyte.gz");
  gz[gz.size() / 2] = static_cast<char>(gz[gz.size() / 2] ^ 0x55);
  write_file(dir / "corrupt.gz", gz);
  BOOST_TEST(error_of([&] { read_idx(dir / "corrupt.gz"); }).find((dir / "corrupt.gz").string() + ":") == 0u);
  write_file(dir / "cut.gz", read_file(kDataDir / "tiny-images-idx3-ubyte.gz").substr(0, 30));
  BOOST_TEST(error_of([&] { read_idx(dir / "cut.gz"); }) != "(no error)");
}

BOOST_AUTO_TEST_CASE(image_and_label_counts_must_agree) {
  TempDir dir;
  write_file(dir / "labels", idx_bytes({5}, std::string(5, '\1')));
  BOOST_TEST(error_of([&] { read_idx_pair(kDataDir / "tiny-images-idx3-ubyte", dir / "labels"); }) ==
             (kDataDir / "tiny-images-idx3-ubyte").string() + " holds 6 images but " + (dir / "labels").string() +
                 " holds 5 labels");
  BOOST_TEST(error_of([&] {
               read_idx_pair(kDataDir / "tiny-labels-idx1-ubyte", kDataDir / "tiny-labels-idx1-ubyte");
             }).find("expected images") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reads_csv_with_and_without_header) {
  Samples s = read_csv(kDataDir / "tiny.csv", 0, "auto");
  BOOST_TEST(s.count == 3);
  BOOST_TEST(s.sample_shape.str() == "(3)");
  BOOST_TEST((s.labels == std::vector<std::int32_t>{2, 0, 1}));
  BOOST_TEST(s.features[3] == 1e-3f);
  BOOST_TEST(s.features[2] == -1.0f);
  Samples t = read_csv(kDataDir / "tiny-noheader.csv", 2, "auto");
  BOOST_TEST(t.count == 2);
  BOOST_TEST((t.labels == std::vector<std::int32_t>{1, 0}));
  BOOST_TEST(t.features[2] == 0.3f);
}

BOOST_AUTO_TEST_CASE(bad_csv_names_file_line_and_column) {
  TempDir dir;
  const auto f = dir / "bad.csv";
  const std::string name = f.string();
  write_file(f, "1,2,3\n0,1\n");
  BOOST_TEST(error_of([&] { read_csv(f, 0, "auto"); }) == name + ":2: row has 2 columns but the first row has 3");
  write_file(f, "1,2,3\n0,1,x\n");
  BOOST_TEST(error_of([&] { read_csv(f, 0, "auto"); }) == name + ":2: column 3: 'x' is not a number");
  write_file(f, "1,2,3\n0,1,nan\n");
  BOOST_TEST(error_of([&] { read_csv(f, 0, "auto"); }) == name + ":2: column 3: 'nan' is not a finite number");
  write_file(f, "1,2,3\n-1,1,2\n");
  BOOST_TEST(error_of([&] { read_csv(f, 0, "auto"); }) ==
             name + ":2: column 1: label '-1' is not a class number (an integer >= 0)");
  write_file(f, "1.5,2,3\n");
  BOOST_TEST(error_of([&] { read_csv(f, 0, "auto"); }).find("label '1.5'") != std::string::npos);
  write_file(f, "");
  BOOST_TEST(error_of([&] { read_csv(f, 0, "auto"); }) == name + ": no data rows");
  write_file(f, "a,b\n");
  BOOST_TEST(error_of([&] { read_csv(f, 0, "auto"); }) == name + ": no data rows");
  write_file(f, "1,2\n");
  BOOST_TEST(error_of([&] { read_csv(f, 5, "auto"); }) == name + ":1: label_column 5 is outside the file's 2 columns");
  write_file(f, "1,\"2\n");
  BOOST_TEST(error_of([&] { read_csv(f, 0, "false"); }).find("malformed CSV") != std::string::npos);
  BOOST_TEST(error_of([&] { read_csv(dir.path(), 0, "auto"); }) ==
             dir.path().string() + ": is a directory, not a data file");
}

BOOST_AUTO_TEST_CASE(validation_split_is_seeded_disjoint_and_limits_apply) {
  DataSpec spec;
  spec.source = "idx";
  spec.train_images = kDataDir / "tiny-images-idx3-ubyte";
  spec.train_labels = kDataDir / "tiny-labels-idx1-ubyte";
  spec.test_images = kDataDir / "tiny-images-idx3-ubyte.gz";
  spec.test_labels = kDataDir / "tiny-labels-idx1-ubyte.gz";
  spec.validation_split = 0.5;
  spec.test_limit = 4;
  DataSplits a = load_data(spec, 7);
  DataSplits b = load_data(spec, 7);
  BOOST_TEST(a.train.size() == 3u);
  BOOST_TEST(a.validation.size() == 3u);
  BOOST_TEST(a.test.size() == 4u);
  BOOST_TEST(a.max_label == 2);
  Tensor xa, xb, xv;
  std::vector<std::int32_t> ya, yb, yv;
  const std::vector<std::uint32_t> all{0, 1, 2};
  a.train.batch(all, xa, ya);
  b.train.batch(all, xb, yb);
  a.validation.batch(all, xv, yv);
  BOOST_TEST(std::equal(xa.data(), xa.data() + xa.size(), xb.data()));  // same seed, same split
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) BOOST_TEST(xa[i * 6] != xv[j * 6]);  // no row on both sides
  }
  spec.train_limit = 2;
  spec.validation_split = 0.0;
  BOOST_TEST(load_data(spec, 7).train.size() == 2u);
  spec.validation_split = 0.1;  // 0.1 of 2 rows rounds to none
  BOOST_TEST(error_of([&] { load_data(spec, 7); }).find("validation_split") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_fashion_mnist_says_how_to_install_it) {
  DataSpec spec;
  spec.dir = "/nonexistent/fashion";
  BOOST_TEST(error_of([&] { load_data(spec, 1); }).find("apt-get install dataset-fashion-mnist") != std::string::npos);
}
