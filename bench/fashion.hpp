// Fashion-MNIST from Debian's dataset-fashion-mnist (gzip IDX) into memory, for the benchmark's
// own programs: pixels scaled to [0, 1] as Lamina scales them.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

inline std::vector<std::uint8_t> gunzip(const std::string& file) {
  gzFile f = gzopen(file.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error(file + ": cannot open");
  std::vector<std::uint8_t> out;
  std::uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  gzclose(f);
  return out;
}

struct Split {
  std::vector<float> x;  // n x 784
  std::vector<std::int64_t> y;
  std::int64_t n = 0;
};

inline Split load(const std::string& prefix) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  const auto img = gunzip(dir + prefix + "-images-idx3-ubyte.gz");
  const auto lab = gunzip(dir + prefix + "-labels-idx1-ubyte.gz");
  Split s;
  s.n = static_cast<std::int64_t>(lab.size() - 8);
  s.x.resize(static_cast<std::size_t>(s.n) * 784);
  for (std::size_t i = 0; i < s.x.size(); ++i) s.x[i] = static_cast<float>(img[16 + i]) / 255.0f;
  s.y.assign(lab.begin() + 8, lab.end());
  return s;
}

}  // namespace bench
