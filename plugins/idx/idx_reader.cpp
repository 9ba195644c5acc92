// IDX files (LeCun's MNIST format, also Fashion-MNIST's): a 4-byte magic (0, 0, element type,
// rank), rank big-endian uint32 dimensions, then the elements. Read through zlib so .gz files
// and plain ones take the same path. The header is never trusted for allocation: data grows
// as bytes actually arrive, so a header that claims 2^40 bytes fails as "truncated", not as
// an out-of-memory kill.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "idx_reader.hpp"

#include <lamina/error.hpp>

namespace fs = std::filesystem;

namespace lamina_idx {

using lamina::InputError;

namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;
constexpr std::int64_t kMaxElements = std::int64_t{1} << 34;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

GzFile open_input(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw InputError(fmt::format("{}: is a directory, not a data file", file.string()));
  if (!fs::exists(file, ec)) throw InputError(fmt::format("{}: no such file", file.string()));
  GzFile f(gzopen(file.c_str(), "rb"));
  if (!f) throw InputError(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  return f;
}

// Reads up to n bytes; returns how many were read.
std::size_t read_some(gzFile f, const fs::path& file, std::uint8_t* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 20));
    const int r = gzread(f, out + got, chunk);
    if (r < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      throw InputError(fmt::format("{}: corrupt or unreadable compressed data: {}", file.string(), msg));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

}  // namespace

IdxArray read_idx(const fs::path& file) {
  GzFile f = open_input(file);
  const std::string name = file.string();
  std::uint8_t magic[4];
  const std::size_t got = read_some(f.get(), file, magic, 4);
  if (got == 0) throw InputError(fmt::format("{}: empty file, expected an IDX header", name));
  if (got < 4 || magic[0] != 0 || magic[1] != 0 || magic[3] < 1 || magic[3] > 4) {
    throw InputError(fmt::format(
        "{}: not an IDX file (bad magic number{})", name,
        got < 4 ? "" : fmt::format(" {:02x} {:02x} {:02x} {:02x}", magic[0], magic[1], magic[2], magic[3])));
  }
  if (magic[2] != kUnsignedByte) {
    throw InputError(
        fmt::format("{}: IDX element type 0x{:02x} is not supported (only unsigned bytes, 0x08)", name, magic[2]));
  }
  IdxArray out;
  std::int64_t elements = 1;
  for (int i = 0; i < magic[3]; ++i) {
    std::uint8_t b[4];
    if (read_some(f.get(), file, b, 4) < 4) throw InputError(fmt::format("{}: truncated IDX header", name));
    const std::int64_t d = (std::int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    out.dims.push_back(d);
    if (d > 0 && elements > kMaxElements / d) {
      throw InputError(fmt::format("{}: IDX header declares more than 2^34 elements", name));
    }
    elements *= d;
  }
  // Grow with the bytes that really arrive (see the header comment).
  std::size_t have = 0;
  const auto want = static_cast<std::size_t>(elements);
  while (have < want) {
    const std::size_t step = std::min<std::size_t>(want - have, std::size_t{8} << 20);
    out.data.resize(have + step);
    const std::size_t r = read_some(f.get(), file, out.data.data() + have, step);
    have += r;
    if (r < step) {
      throw InputError(
          fmt::format("{}: truncated: the header declares {} bytes of data, the file holds {}", name, want, have));
    }
  }
  std::uint8_t extra;
  if (read_some(f.get(), file, &extra, 1) != 0) {
    throw InputError(fmt::format("{}: has bytes past the {} declared by its header", name, want));
  }
  return out;
}

lamina::SampleSet read_idx_pair(const fs::path& images, const fs::path& labels) {
  IdxArray img = read_idx(images);
  IdxArray lab = read_idx(labels);
  if (img.dims.size() < 2) {
    throw InputError(fmt::format("{}: expected images (an IDX array of rank 2 or more), found rank {}", images.string(),
                                 img.dims.size()));
  }
  if (lab.dims.size() != 1) {
    throw InputError(
        fmt::format("{}: expected labels (an IDX array of rank 1), found rank {}", labels.string(), lab.dims.size()));
  }
  if (img.dims[0] != lab.dims[0]) {
    throw InputError(fmt::format("{} holds {} images but {} holds {} labels", images.string(), img.dims[0],
                                 labels.string(), lab.dims[0]));
  }
  lamina::SampleSet s = samples_of(std::move(img), images);
  s.labels_origin = labels.string();
  s.labels.assign(lab.data.begin(), lab.data.end());
  return s;
}

lamina::SampleSet samples_of(IdxArray a, const fs::path& file) {
  if (a.dims.size() < 2 || a.dims.size() > 4) {
    throw InputError(fmt::format("{}: expected samples (an IDX array of rank 2 to 4: N x ...), found rank {}",
                                 file.string(), a.dims.size()));
  }
  lamina::SampleSet s;
  s.origin = file.string();
  s.count = a.dims[0];
  // N x H x W images are one channel each: (1, H, W), the layout a convolution expects.
  // N x D stays (D); N x C x H x W is (C, H, W).
  std::vector<std::int64_t> shape(a.dims.begin() + 1, a.dims.end());
  if (shape.size() == 2) shape.insert(shape.begin(), 1);
  s.sample_shape = lamina::Shape::from(shape);
  s.bytes = std::move(a.data);
  return s;
}

}  // namespace lamina_idx
