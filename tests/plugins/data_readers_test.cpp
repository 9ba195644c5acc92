// The readers of the idx, csv, npy and text data source plugins, called directly (their sources are
// compiled into this test). Broken files are written by each case.
#define BOOST_TEST_MODULE data_readers
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <lamina/error.hpp>

#include "csv/csv_reader.hpp"
#include "idx/idx_reader.hpp"
#include "npy/npy_reader.hpp"
#include "text/characters.hpp"
#include "text/text_windows.hpp"
#include "runtime/dataset.hpp"
#include "test_support.hpp"

using namespace lamina;
using namespace lamina::test;
using lamina_csv::read_csv;
using lamina_idx::IdxArray;
using lamina_idx::read_idx;
using lamina_idx::read_idx_pair;

namespace {

std::string idx_bytes(std::vector<std::uint32_t> dims, const std::string& data, std::uint8_t type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (auto d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  return s + data;
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

BOOST_AUTO_TEST_CASE(pairs_images_with_labels_keeps_their_shape_and_scales_batches) {
  SampleSet s = read_idx_pair(kDataDir / "tiny-images-idx3-ubyte.gz", kDataDir / "tiny-labels-idx1-ubyte");
  BOOST_TEST(s.count == 6);
  BOOST_TEST(s.sample_shape.str() == "(1, 2, 3)");  // N x 2 x 3 images: one channel each
  BOOST_TEST((s.labels == std::vector<std::int32_t>{0, 1, 2, 0, 1, 2}));
  check_samples(s, "idx", true);
  DataView view(std::make_shared<SampleSet>(std::move(s)), {5, 1}, 1.0f / 255.0f);
  Tensor x;
  BatchTargets y;
  const std::vector<std::uint32_t> rows{1, 0};
  view.batch(rows, x, y);
  BOOST_TEST(x.shape().str() == "(2, 1, 2, 3)");
  BOOST_TEST((y.classes == std::vector<std::int32_t>{1, 2}));
  // Row 1 of the file starts at byte 6: 42 / 255.
  BOOST_TEST(x[0] == 42.0f * (1.0f / 255.0f));
  BOOST_TEST(x[6] == static_cast<float>((5 * 6 * 7) % 256) * (1.0f / 255.0f));
}

BOOST_AUTO_TEST_CASE(bad_idx_files_name_the_file_and_the_problem) {
  TempDir dir;
  const auto f = dir / "bad";
  write_file(f, "");
  BOOST_TEST(input_error_of([&] { read_idx(f); }) == f.string() + ": empty file, expected an IDX header");
  write_file(f, "PK\x03\x04 not idx");
  BOOST_TEST(input_error_of([&] { read_idx(f); }) == f.string() + ": not an IDX file (bad magic number 50 4b 03 04)");
  write_file(f, idx_bytes({2}, "ab", 0x0d));
  BOOST_TEST(input_error_of([&] { read_idx(f); }) ==
             f.string() + ": IDX element type 0x0d is not supported (only unsigned bytes, 0x08)");
  write_file(f, idx_bytes({4, 2}, "abc"));
  BOOST_TEST(input_error_of([&] { read_idx(f); }) ==
             f.string() + ": truncated: the header declares 8 bytes of data, the file holds 3");
  write_file(f, idx_bytes({2}, "abc"));
  BOOST_TEST(input_error_of([&] { read_idx(f); }) == f.string() + ": has bytes past the 2 declared by its header");
  write_file(f, std::string("\0\0\x08\x02\0\0", 6));
  BOOST_TEST(input_error_of([&] { read_idx(f); }) == f.string() + ": truncated IDX header");
  // A header claiming 4e9 x 4e9 bytes is refused without allocating them.
  write_file(f, idx_bytes({0xffffffffu, 0xffffffffu}, "x"));
  BOOST_TEST(input_error_of([&] { read_idx(f); }) == f.string() + ": IDX header declares more than 2^34 elements");
  // A header that lies by a gigabyte fails as truncated, having read only what is there.
  write_file(f, idx_bytes({1u << 30}, "xyz"));
  BOOST_TEST(input_error_of([&] { read_idx(f); }).find("truncated") != std::string::npos);
  BOOST_TEST(input_error_of([&] { read_idx(dir / "missing"); }) == (dir / "missing").string() + ": no such file");
  BOOST_TEST(input_error_of([&] { read_idx(dir.path()); }) == dir.path().string() + ": is a directory, not a data file");
}

BOOST_AUTO_TEST_CASE(corrupt_gzip_is_an_input_error) {
  TempDir dir;
  std::string gz = read_file(kDataDir / "tiny-images-idx3-ubyte.gz");
  gz[gz.size() / 2] = static_cast<char>(gz[gz.size() / 2] ^ 0x55);
  write_file(dir / "corrupt.gz", gz);
  BOOST_TEST(input_error_of([&] { read_idx(dir / "corrupt.gz"); }).find((dir / "corrupt.gz").string() + ":") == 0u);
  write_file(dir / "cut.gz", read_file(kDataDir / "tiny-images-idx3-ubyte.gz").substr(0, 30));
  BOOST_TEST(input_error_of([&] { read_idx(dir / "cut.gz"); }) != "(no error)");
}

BOOST_AUTO_TEST_CASE(image_and_label_counts_must_agree) {
  TempDir dir;
  write_file(dir / "labels", idx_bytes({5}, std::string(5, '\1')));
  BOOST_TEST(input_error_of([&] { read_idx_pair(kDataDir / "tiny-images-idx3-ubyte", dir / "labels"); }) ==
             (kDataDir / "tiny-images-idx3-ubyte").string() + " holds 6 images but " + (dir / "labels").string() +
                 " holds 5 labels");
  BOOST_TEST(input_error_of([&] {
               read_idx_pair(kDataDir / "tiny-labels-idx1-ubyte", kDataDir / "tiny-labels-idx1-ubyte");
             }).find("expected images") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reads_csv_with_and_without_header) {
  SampleSet s = read_csv(kDataDir / "tiny.csv", 0, "auto");
  BOOST_TEST(s.count == 3);
  BOOST_TEST(s.sample_shape.str() == "(3)");
  BOOST_TEST((s.labels == std::vector<std::int32_t>{2, 0, 1}));
  BOOST_TEST(s.values[3] == 1e-3f);
  BOOST_TEST(s.values[2] == -1.0f);
  SampleSet t = read_csv(kDataDir / "tiny-noheader.csv", 2, "auto");
  BOOST_TEST(t.count == 2);
  BOOST_TEST((t.labels == std::vector<std::int32_t>{1, 0}));
  BOOST_TEST(t.values[2] == 0.3f);
}

BOOST_AUTO_TEST_CASE(bad_csv_names_file_line_and_column) {
  TempDir dir;
  const auto f = dir / "bad.csv";
  const std::string name = f.string();
  write_file(f, "1,2,3\n0,1\n");
  BOOST_TEST(input_error_of([&] { read_csv(f, 0, "auto"); }) == name + ":2: row has 2 columns but the first row has 3");
  write_file(f, "1,2,3\n0,1,x\n");
  BOOST_TEST(input_error_of([&] { read_csv(f, 0, "auto"); }) == name + ":2: column 3: 'x' is not a number");
  write_file(f, "1,2,3\n0,1,nan\n");
  BOOST_TEST(input_error_of([&] { read_csv(f, 0, "auto"); }) == name + ":2: column 3: 'nan' is not a finite number");
  write_file(f, "1,2,3\n-1,1,2\n");
  BOOST_TEST(input_error_of([&] { read_csv(f, 0, "auto"); }) ==
             name + ":2: column 1: label '-1' is not a class number (an integer from 0 to 1000000)");
  write_file(f, "1.5,2,3\n");
  BOOST_TEST(input_error_of([&] { read_csv(f, 0, "auto"); }).find("label '1.5'") != std::string::npos);
  write_file(f, "");
  BOOST_TEST(input_error_of([&] { read_csv(f, 0, "auto"); }) == name + ": no data rows");
  write_file(f, "a,b\n");
  BOOST_TEST(input_error_of([&] { read_csv(f, 0, "auto"); }) == name + ": no data rows");
  write_file(f, "1,2\n");
  BOOST_TEST(input_error_of([&] { read_csv(f, 5, "auto"); }) == name + ":1: label_column 5 is outside the file's 2 columns");
  write_file(f, "1,\"2\n");
  BOOST_TEST(input_error_of([&] { read_csv(f, 0, "false"); }).find("malformed CSV") != std::string::npos);
  BOOST_TEST(input_error_of([&] { read_csv(dir.path(), 0, "auto"); }) ==
             dir.path().string() + ": is a directory, not a data file");
}


namespace {

// A .npy file as numpy.save writes it: magic, version, header length, the dict padded with
// spaces to a multiple of 64 bytes and ended by a newline, then the data.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string s = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const std::size_t n = header.size();
  s += static_cast<char>(n & 0xff);
  s += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) s += std::string{static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
  return s + header + data;
}

template <class T>
std::string raw(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_npy_samples_of_uint8_and_float32_with_their_shape) {
  TempDir dir;
  write_file(dir / "img.npy",
             npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }", "abcdefghijkl"));
  SampleSet s = lamina_npy::read_npy_samples(dir / "img.npy");
  BOOST_TEST(s.count == 2);
  BOOST_TEST(s.sample_shape.str() == "(1, 2, 3)");  // N x H x W: one channel, as IDX images
  BOOST_TEST(s.bytes.size() == 12u);
  BOOST_TEST(s.bytes[11] == 'l');
  BOOST_TEST(s.values.empty());

  write_file(dir / "f.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
                                      raw<float>({1, 2, 3, 4, 5, 0.25f}), 2));
  SampleSet f = lamina_npy::read_npy_samples(dir / "f.npy");
  BOOST_TEST(f.count == 3);
  BOOST_TEST(f.sample_shape.str() == "(2)");
  BOOST_TEST(f.values[5] == 0.25f);
  check_samples(f, "npy", false);

  write_file(dir / "c.npy", npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3, 2, 2), }",
                                      std::string(12, '\7'), 3));
  BOOST_TEST(lamina_npy::read_npy_samples(dir / "c.npy").sample_shape.str() == "(3, 2, 2)");
}

BOOST_AUTO_TEST_CASE(reads_npy_labels_of_every_integer_type) {
  TempDir dir;
  write_file(dir / "y.npy", npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                                      raw<std::int64_t>({2, 0, 9})));
  BOOST_TEST((lamina_npy::read_npy_labels(dir / "y.npy") == std::vector<std::int32_t>{2, 0, 9}));
  write_file(dir / "y.npy", npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", "\x01\xff"));
  BOOST_TEST((lamina_npy::read_npy_labels(dir / "y.npy") == std::vector<std::int32_t>{1, 255}));
  write_file(dir / "y.npy", npy_bytes("{'descr': '<u2', 'fortran_order': False, 'shape': (1,), }",
                                      raw<std::uint16_t>({40000})));
  BOOST_TEST((lamina_npy::read_npy_labels(dir / "y.npy") == std::vector<std::int32_t>{40000}));
  write_file(dir / "y.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }",
                                      raw<std::int16_t>({3, -1})));
  BOOST_TEST(input_error_of([&] { lamina_npy::read_npy_labels(dir / "y.npy"); }) ==
             (dir / "y.npy").string() + ": label -1 of sample 1 is not a class number (an integer >= 0)");
  write_file(dir / "y.npy", npy_bytes("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }",
                                      raw<std::uint64_t>({~std::uint64_t{0}})));
  BOOST_TEST(input_error_of([&] { lamina_npy::read_npy_labels(dir / "y.npy"); }).find("is not a class number") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_npy_files_name_the_file_and_the_problem) {
  TempDir dir;
  const auto f = dir / "bad.npy";
  const std::string name = f.string();
  auto samples_error = [&](const std::string& bytes) {
    write_file(f, bytes);
    return input_error_of([&] { lamina_npy::read_npy_samples(f); });
  };
  auto labels_error = [&](const std::string& bytes) {
    write_file(f, bytes);
    return input_error_of([&] { lamina_npy::read_npy_labels(f); });
  };
  BOOST_TEST(samples_error("") == name + ": empty file, expected a .npy header");
  BOOST_TEST(samples_error("PK\x03\x04 a zip, not npy") == name + ": not a .npy file (it does not start with \\x93NUMPY)");
  BOOST_TEST(samples_error(std::string("\x93NUMPY\x04\x00\x10\x00", 10)) ==
             name + ": .npy format version 4.0 is not supported (1.0, 2.0 and 3.0 are)");
  BOOST_TEST(samples_error(std::string("\x93NUMPY\x01\x00\xff\x7f{", 11)) ==
             name + ": truncated .npy header (it declares 32767 bytes)");
  BOOST_TEST(samples_error(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", raw<double>({1}))) ==
             name + ": samples of dtype '<f8' are not supported: save them as uint8 ('|u1') or float32 ('<f4'), "
                    "e.g. x.astype(numpy.float32), or token ids as integers (x.astype(numpy.int64))");
  BOOST_TEST(samples_error(npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1, 1), }", "12345678")) ==
             name + ": an array of Python objects (dtype object) cannot be read; save numbers");
  BOOST_TEST(samples_error(npy_bytes("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", "abcd")) ==
             name + ": the array is in Fortran order; save it in C order "
                    "(numpy.save(f, numpy.ascontiguousarray(a)))");
  BOOST_TEST(samples_error(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", "abcd")) ==
             name + ": truncated: shape (2, 3) of '|u1' needs 6 bytes of data, the file holds 4");
  BOOST_TEST(samples_error(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3), }", "abcd")) ==
             name + ": has 1 bytes past the 3 its header declares");
  BOOST_TEST(samples_error(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", "abcd")) ==
             name + ": expected samples, an array N x ... of 2 to 4 dimensions; found shape (4)");
  BOOST_TEST(samples_error(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "abcd")) ==
             name + ": not a valid .npy header: structured arrays (a list as 'descr') are not supported; save a "
                    "plain array");
  BOOST_TEST(samples_error(npy_bytes("{'descr': '|u1', 'shape': (1, 1), }", "a")) ==
             name + ": not a valid .npy header: the header lacks 'descr', 'fortran_order' or 'shape'");
  BOOST_TEST(samples_error(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1), 'x': 1}", "a")) ==
             name + ": not a valid .npy header: unexpected key 'x' in the header");
  // A header claiming 2^40 elements is refused without allocating them.
  BOOST_TEST(samples_error(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1048576, 1048576), }",
                                     "a")) == name + ": the header declares more than 2^34 elements");
  BOOST_TEST(samples_error(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999, 1), }",
                                     "a")) == name + ": not a valid .npy header: a dimension of 'shape' is too large");
  BOOST_TEST(labels_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", raw<float>({1}))) ==
             name + ": labels of dtype '<f4' are not supported: save them as integers in little-endian order, "
                    "e.g. y.astype(numpy.int64)");
  BOOST_TEST(labels_error(npy_bytes("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", "\0\0\0\1")) ==
             name + ": labels of dtype '>i4' are not supported: save them as integers in little-endian order, "
                    "e.g. y.astype(numpy.int64)");
  BOOST_TEST(labels_error(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1), }", "a")) ==
             name + ": expected labels, a 1-D array; found shape (1, 1)");
  BOOST_TEST(input_error_of([&] { lamina_npy::read_npy_samples(dir / "missing.npy"); }) ==
             (dir / "missing.npy").string() + ": no such file");
}

// A text's bytes as ids, cut into windows whose targets are the next byte; a window past the
// text is refused with the key's place, and no byte is lost to signed chars.
BOOST_AUTO_TEST_CASE(text_windows_hold_each_position_and_the_byte_after_it) {
  TempDir dir;
  write_file(dir / "t.txt", "hello\xff");
  const auto tokens = lamina_text::read_byte_tokens(dir / "t.txt");
  BOOST_TEST(tokens == (std::vector<std::int32_t>{'h', 'e', 'l', 'l', 'o', 255}), boost::test_tools::per_element());
  const auto w = lamina_text::cut_windows(tokens, 2, 1, "t.txt", "m.yaml:1:2");
  BOOST_TEST(w.count == 4);  // the last byte is only a target
  BOOST_TEST(w.ids == (std::vector<std::int32_t>{'h', 'e', 'e', 'l', 'l', 'l', 'l', 'o'}),
             boost::test_tools::per_element());
  BOOST_TEST(w.next == (std::vector<std::int32_t>{'e', 'l', 'l', 'l', 'l', 'o', 'o', 255}),
             boost::test_tools::per_element());
  // Stride 3 over 6 tokens with length 2: windows at 0 and 3 (the one at 6 would need 9 tokens).
  const auto strided = lamina_text::cut_windows(tokens, 2, 3, "t.txt", "m.yaml:1:2");
  BOOST_TEST(strided.count == 2);
  BOOST_TEST(strided.ids == (std::vector<std::int32_t>{'h', 'e', 'l', 'o'}), boost::test_tools::per_element());
  BOOST_CHECK_EXCEPTION(lamina_text::cut_windows(tokens, 6, 1, "t.txt", "m.yaml:1:2"), InputError,
                        [](const InputError& e) {
                          return std::string(e.what()) ==
                                 "m.yaml:1:2: length 6 is longer than the text of t.txt: it holds 6 tokens, and a "
                                 "window of 6 needs 7 (its targets are the tokens that follow)";
                        });
  write_file(dir / "empty.txt", "");
  BOOST_CHECK_THROW(lamina_text::read_byte_tokens(dir / "empty.txt"), InputError);
}

// The text source's character mode: strict UTF-8 (each kind of bad sequence refused with its
// byte offset), a vocabulary of the training text's distinct characters in code-point order
// (id 0 for one it does not hold), and the state the run keeps reading back to the same ids.
BOOST_AUTO_TEST_CASE(text_characters_decode_utf8_strictly_and_keep_their_vocabulary) {
  using namespace lamina_text;
  const std::string text = "h\xc3\xa9llo \xe2\x82\xac\xf0\x9d\x84\x9e";  // "héllo €𝄞": 1, 2, 3 and 4 bytes
  const auto points = decode_utf8(text, "t.txt");
  BOOST_TEST((points == std::vector<char32_t>{U'h', U'\u00e9', U'l', U'l', U'o', U' ', U'\u20ac', U'\U0001D11E'}));
  BOOST_TEST(encode_utf8(points) == text);
  const std::pair<std::string, std::string> bad[] = {
      {"ab\xff", "t.txt: not UTF-8 at byte 2 (0xff cannot start a character)"},
      {"abc\xc3", "t.txt: not UTF-8 at byte 3 (a character cut short)"},
      {"a\xe2\x82z", "t.txt: not UTF-8 at byte 1 (a character cut short)"},
      {"\xc0\xaf", "t.txt: not UTF-8 at byte 0 (an overlong, surrogate or out-of-range sequence)"},
      {"x\xed\xa0\x80", "t.txt: not UTF-8 at byte 1 (an overlong, surrogate or out-of-range sequence)"},
      {"\xf4\x90\x80\x80", "t.txt: not UTF-8 at byte 0 (an overlong, surrogate or out-of-range sequence)"},
  };
  for (const auto& [bytes, message] : bad) {
    try {
      decode_utf8(bytes, "t.txt");
      BOOST_TEST(false, "accepted " << message);
    } catch (const lamina::InputError& e) {
      BOOST_TEST(std::string(e.what()).starts_with(message), e.what());
    }
  }
  const Characters vocab = Characters::of(points);
  BOOST_TEST(vocab.size() == 8);  // 7 distinct characters and the unknown id 0
  // Ids follow code points: ' ' < 'h' < 'l' < 'o' < 'é' < '€' < '𝄞'.
  BOOST_TEST((vocab.ids(points) == std::vector<std::int32_t>{2, 5, 3, 3, 4, 1, 6, 7}));
  const auto unseen = decode_utf8("hax", "t.txt");
  BOOST_TEST((vocab.ids(unseen) == std::vector<std::int32_t>{2, 0, 0}));
  const std::vector<std::int32_t> some{2, 0, 5};
  BOOST_TEST(vocab.text(some) == "h\xef\xbf\xbd\xc3\xa9");  // 0 decodes as U+FFFD
  const Characters back = Characters::from_state(vocab.state(), "state");
  BOOST_TEST((back.ids(points) == vocab.ids(points)));
  BOOST_CHECK_THROW(Characters::from_state("ba", "state"), lamina::InputError);  // not sorted
  BOOST_CHECK_THROW(Characters::from_state("", "state"), lamina::InputError);
}
