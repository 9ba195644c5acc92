// The .npy reader. A file is: the magic "\x93NUMPY", a major and minor version byte, the header
// length (2 bytes little endian in version 1, 4 in versions 2 and 3), the header — a Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), } padded
// with spaces and a newline — and the array's bytes. The header is parsed as exactly that
// grammar, not evaluated; the size it declares is checked against the file's size before
// anything is allocated, so a lying header fails as "truncated", never as an out-of-memory kill.
#include "npy_reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <lamina/error.hpp>

#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

namespace fs = std::filesystem;

namespace lamina_npy {

using lamina::InputError;

namespace {

constexpr std::uint64_t kMaxHeader = 1u << 20;
constexpr std::int64_t kMaxElements = std::int64_t{1} << 34;

// The header's dict, parsed by recursive descent over its few forms.
class HeaderParser {
 public:
  HeaderParser(std::string text, std::string file) : s_(std::move(text)), file_(std::move(file)) {}

  NpyHeader parse() {
    NpyHeader h;
    bool descr = false, order = false, shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() == '[') fail("structured arrays (a list as 'descr') are not supported; save a plain array");
        h.descr = string_literal();
        descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        shape = true;
      } else {
        fail(fmt::format("unexpected key '{}' in the header", printable(key)));
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') fail("expected ',' or '}' in the header");
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size()) fail("text after the header's dict");
    if (!descr || !order || !shape) fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: not a valid .npy header: {}", file_, what));
  }
  static std::string printable(std::string_view t) {
    std::string out;
    for (char c : t.substr(0, 40)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    return out;
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    const std::size_t end = s_.find(q, pos_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (s_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    fail("'fortran_order' is neither True nor False");
  }
  std::vector<std::int64_t> tuple() {
    expect('(');
    std::vector<std::int64_t> dims;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a dimension in 'shape'");
      std::int64_t d = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (d > (std::numeric_limits<std::int64_t>::max() - 9) / 10) fail("a dimension of 'shape' is too large");
        d = d * 10 + (s_[pos_++] - '0');
      }
      dims.push_back(d);
      if (dims.size() > 32) fail("'shape' has more than 32 dimensions");
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in 'shape'");
      }
    }
    ++pos_;
    return dims;
  }

  std::string s_;
  std::string file_;
  std::size_t pos_ = 0;
};

std::ifstream open_at(const fs::path& file, const NpyHeader& h) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  in.seekg(static_cast<std::streamoff>(h.data_offset));
  return in;
}

// The number of elements, checked against the bytes the file holds after the header.
std::int64_t checked_elements(const fs::path& file, const NpyHeader& h, std::int64_t item_size) {
  std::int64_t n = 1;
  for (std::int64_t d : h.shape) {
    if (d > 0 && n > kMaxElements / d) {
      throw InputError(fmt::format("{}: the header declares more than 2^34 elements", file.string()));
    }
    n *= d;
  }
  std::error_code ec;
  const std::uint64_t size = fs::file_size(file, ec);
  const std::uint64_t want = static_cast<std::uint64_t>(n * item_size);
  const std::uint64_t have = size - h.data_offset;  // read_npy_header checked size >= offset
  if (have < want) {
    throw InputError(fmt::format("{}: truncated: shape ({}) of '{}' needs {} bytes of data, the file holds {}",
                                 file.string(), fmt::join(h.shape, ", "), h.descr, want, have));
  }
  if (have > want) {
    throw InputError(fmt::format("{}: has {} bytes past the {} its header declares", file.string(), have - want, want));
  }
  return n;
}

void refuse_fortran(const fs::path& file, const NpyHeader& h) {
  if (h.fortran_order) {
    throw InputError(fmt::format("{}: the array is in Fortran order; save it in C order "
                                 "(numpy.save(f, numpy.ascontiguousarray(a)))",
                                 file.string()));
  }
}

}  // namespace

NpyHeader read_npy_header(const fs::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw InputError(fmt::format("{}: is a directory, not a data file", name));
  if (!fs::exists(file, ec)) throw InputError(fmt::format("{}: no such file", name));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
  const std::uint64_t size = fs::file_size(file, ec);
  if (ec) throw InputError(fmt::format("{}: cannot read its size: {}", name, ec.message()));

  unsigned char pre[12] = {};
  in.read(reinterpret_cast<char*>(pre), 10);
  if (in.gcount() == 0) throw InputError(fmt::format("{}: empty file, expected a .npy header", name));
  if (in.gcount() < 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0) {
    throw InputError(fmt::format("{}: not a .npy file (it does not start with \\x93NUMPY)", name));
  }
  const int major = pre[6];
  std::uint64_t header_len = 0;
  std::uint64_t offset = 0;
  if (major == 1) {
    header_len = pre[8] | (std::uint64_t{pre[9]} << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    in.read(reinterpret_cast<char*>(pre + 10), 2);
    if (in.gcount() < 2) throw InputError(fmt::format("{}: truncated .npy header", name));
    header_len = pre[8] | (std::uint64_t{pre[9]} << 8) | (std::uint64_t{pre[10]} << 16) | (std::uint64_t{pre[11]} << 24);
    offset = 12;
  } else {
    throw InputError(fmt::format("{}: .npy format version {}.{} is not supported (1.0, 2.0 and 3.0 are)", name, major,
                                 static_cast<int>(pre[7])));
  }
  if (header_len > kMaxHeader || offset + header_len > size) {
    throw InputError(fmt::format("{}: truncated .npy header (it declares {} bytes)", name, header_len));
  }
  std::string text(static_cast<std::size_t>(header_len), '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  if (static_cast<std::uint64_t>(in.gcount()) != header_len) {
    throw InputError(fmt::format("{}: truncated .npy header", name));
  }
  NpyHeader h = HeaderParser(std::move(text), name).parse();
  h.data_offset = offset + header_len;
  return h;
}

namespace {

// The array's bytes, `bytes` of them (checked_elements has checked the file holds them).
std::vector<unsigned char> read_raw(const fs::path& file, const NpyHeader& h, std::int64_t bytes) {
  std::vector<unsigned char> raw(static_cast<std::size_t>(bytes));
  std::ifstream in = open_at(file, h);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  if (!in) throw InputError(fmt::format("{}: read error", file.string()));
  return raw;
}

// Integers: '|u1', '|i1', '<i4', '<u8', ... (a byte order of '<', '|' or none; '>' is refused).
bool is_integer_descr(const std::string& d) {
  return d.size() == 3 && (d[0] == '<' || d[0] == '|') && (d[1] == 'i' || d[1] == 'u') &&
         (d[2] == '1' || d[2] == '2' || d[2] == '4' || d[2] == '8');
}

// One little-endian integer of `size` bytes as int64, or nullopt when it does not fit one
// (an unsigned 64-bit value of 2^63 or more).
std::optional<std::int64_t> decode_integer(const unsigned char* bytes, int size, bool is_signed) {
  std::uint64_t u = 0;
  for (int b = 0; b < size; ++b) u |= std::uint64_t{bytes[b]} << (8 * b);
  if (!is_signed && size == 8 && (u >> 63) != 0) return std::nullopt;
  std::int64_t v = static_cast<std::int64_t>(u);
  if (is_signed && size < 8 && (u >> (8 * size - 1)) != 0) v = static_cast<std::int64_t>(u) - (std::int64_t{1} << (8 * size));
  return v;
}

// Token ids: integers other than uint8 (which are pixels), N x T, each in [0, 2^31). They stay
// int32 (SampleSet::ids), never floats, so ids of 2^24 and more arrive exactly.
lamina::SampleSet read_npy_ids(const fs::path& file, const NpyHeader& h) {
  const std::string name = file.string();
  refuse_fortran(file, h);
  if (h.shape.size() != 2) {
    throw InputError(fmt::format("{}: token ids (dtype '{}') are a sequence per sample, an array N x T; found shape ({})",
                                 name, h.descr, fmt::join(h.shape, ", ")));
  }
  const int size = h.descr[2] - '0';
  const bool is_signed = h.descr[1] == 'i';
  const std::int64_t n = checked_elements(file, h, size);
  const std::vector<unsigned char> raw = read_raw(file, h, n * size);
  lamina::SampleSet s;
  s.origin = name;
  s.count = h.shape[0];
  s.sample_shape = lamina::Shape::from(std::vector<std::int64_t>{h.shape[1]});
  s.ids.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto v = decode_integer(raw.data() + i * size, size, is_signed);
    if (!v || *v < 0 || *v > std::numeric_limits<std::int32_t>::max()) {
      const std::string text = v ? fmt::format("{}", *v) : "beyond 2^63";
      throw InputError(fmt::format("{}: token id {} of sample {}, position {} is not an id (an integer in [0, 2^31))",
                                   name, text, i / h.shape[1], i % h.shape[1]));
    }
    s.ids[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(*v);
  }
  return s;
}

}  // namespace

lamina::SampleSet read_npy_samples(const fs::path& file) {
  const NpyHeader h = read_npy_header(file);
  const std::string name = file.string();
  if (h.descr == "|O" || h.descr == "O") {
    throw InputError(fmt::format("{}: an array of Python objects (dtype object) cannot be read; save numbers", name));
  }
  const bool bytes = h.descr == "|u1" || h.descr == "u1";
  if (!bytes && is_integer_descr(h.descr)) return read_npy_ids(file, h);
  if (!bytes && h.descr != "<f4" && h.descr != "f4") {
    throw InputError(fmt::format("{}: samples of dtype '{}' are not supported: save them as uint8 ('|u1') or "
                                 "float32 ('<f4'), e.g. x.astype(numpy.float32), or token ids as integers "
                                 "(x.astype(numpy.int64))",
                                 name, h.descr));
  }
  refuse_fortran(file, h);
  if (h.shape.size() < 2 || h.shape.size() > 4) {
    throw InputError(fmt::format("{}: expected samples, an array N x ... of 2 to 4 dimensions; found shape ({})", name,
                                 fmt::join(h.shape, ", ")));
  }
  const std::int64_t n = checked_elements(file, h, bytes ? 1 : 4);
  lamina::SampleSet s;
  s.origin = name;
  s.count = h.shape[0];
  std::vector<std::int64_t> shape(h.shape.begin() + 1, h.shape.end());
  if (shape.size() == 2) shape.insert(shape.begin(), 1);  // N x H x W: one channel, as IDX images
  s.sample_shape = lamina::Shape::from(shape);
  std::ifstream in = open_at(file, h);
  if (bytes) {
    s.bytes.resize(static_cast<std::size_t>(n));
    in.read(reinterpret_cast<char*>(s.bytes.data()), static_cast<std::streamsize>(n));
  } else {
    s.values.resize(static_cast<std::size_t>(n));
    in.read(reinterpret_cast<char*>(s.values.data()), static_cast<std::streamsize>(n * 4));
  }
  if (!in) throw InputError(fmt::format("{}: read error", name));
  return s;
}

NpyTargets read_npy_targets(const fs::path& file, bool multilabel) {
  const NpyHeader h = read_npy_header(file);
  const std::string name = file.string();
  const std::string& d = h.descr;
  const bool integer = is_integer_descr(d);
  const bool floating = d == "<f4" || d == "<f8";
  if (!integer && !floating) {
    throw InputError(fmt::format("{}: labels of dtype '{}' are not supported: save them as integers in little-endian "
                                 "order, e.g. y.astype(numpy.int64), or as float32 or float64 regression targets",
                                 name, d));
  }
  refuse_fortran(file, h);
  if (h.shape.size() != 1 && h.shape.size() != 2) {
    throw InputError(fmt::format("{}: expected targets, an array of N or N x K; found shape ({})", name,
                                 fmt::join(h.shape, ", ")));
  }
  const int size = d[2] - '0';
  const bool is_signed = d[1] == 'i';
  const std::int64_t n = checked_elements(file, h, size);
  const std::vector<unsigned char> raw = read_raw(file, h, n * size);

  NpyTargets t;
  t.count = h.shape[0];
  t.width = h.shape.size() == 2 ? h.shape[1] : 1;
  if (t.width < 1) throw InputError(fmt::format("{}: targets of shape ({}) hold none per sample", name, fmt::join(h.shape, ", ")));
  t.kind = multilabel                 ? lamina::TargetKind::MultiLabel
           : floating                 ? lamina::TargetKind::Regression
           : h.shape.size() == 2      ? lamina::TargetKind::ClassPerPosition
                                      : lamina::TargetKind::Class;
  const bool classes = t.kind == lamina::TargetKind::Class || t.kind == lamina::TargetKind::ClassPerPosition;
  if (classes) {
    t.classes.resize(static_cast<std::size_t>(n));
  } else {
    t.values.resize(static_cast<std::size_t>(n));
  }
  auto place = [&](std::int64_t i) {
    return t.width == 1 ? fmt::format("sample {}", i) : fmt::format("sample {}, position {}", i / t.width, i % t.width);
  };
  for (std::int64_t i = 0; i < n; ++i) {
    const unsigned char* bytes = raw.data() + i * size;
    double value = 0;
    std::string text;
    if (floating) {
      if (size == 4) {
        float f;
        std::memcpy(&f, bytes, 4);
        value = f;
      } else {
        std::memcpy(&value, bytes, 8);
      }
      if (!std::isfinite(value) || std::abs(value) > 3.4e38) {
        throw InputError(fmt::format("{}: the target of {} is not a finite float ({})", name, place(i), value));
      }
      text = fmt::format("{}", value);
    } else {
      const auto v = decode_integer(bytes, size, is_signed);
      text = v ? fmt::format("{}", *v) : "beyond 2^63";
      if (!v || *v < 0 || *v > std::numeric_limits<std::int32_t>::max()) {
        throw InputError(fmt::format("{}: label {} of {} is not a class number (an integer >= 0)", name, text, place(i)));
      }
      value = static_cast<double>(*v);
    }
    if (classes) {
      t.classes[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(value);
    } else {
      if (multilabel && value != 0 && value != 1) {
        throw InputError(fmt::format("{}: label {} of {} is {}; multi-label targets are 0 or 1", name, i % t.width,
                                     fmt::format("sample {}", i / t.width), text));
      }
      t.values[static_cast<std::size_t>(i)] = static_cast<float>(value);
    }
  }
  return t;
}

std::vector<std::int32_t> read_npy_labels(const fs::path& file) {
  const NpyHeader h = read_npy_header(file);
  const std::string& d = h.descr;
  if (!is_integer_descr(d)) {
    throw InputError(fmt::format("{}: labels of dtype '{}' are not supported: save them as integers in little-endian "
                                 "order, e.g. y.astype(numpy.int64)",
                                 file.string(), d));
  }
  refuse_fortran(file, h);
  if (h.shape.size() != 1) {
    throw InputError(
        fmt::format("{}: expected labels, a 1-D array; found shape ({})", file.string(), fmt::join(h.shape, ", ")));
  }
  return read_npy_targets(file, false).classes;
}

}  // namespace lamina_npy
