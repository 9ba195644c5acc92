// libFuzzer target: the image_folder plugin's decoding path as the source uses it — the header
// read and checked, the whole image decoded, then converted to a sample of another size and
// channel count. Bad input must end in lamina::InputError; a crash, a sanitizer report, or a
// decoded image that disagrees with its own header is a finding.
#include <lamina/error.hpp>

#include <cstdlib>
#include <vector>

#include "image_folder/image_convert.hpp"
#include "image_folder/image_decode.hpp"

using namespace lamina_image_folder;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A small pixel limit keeps each input's decoding in memory the fuzzer can afford; the limit
  // itself is on the path under test (checked from the header, before any pixel is decoded).
  constexpr std::int64_t kMaxPixels = 1 << 20;
  const std::span<const std::uint8_t> file(data, size);
  ImageHeader header;
  try {
    header = read_header(file, "input", kMaxPixels);
  } catch (const lamina::InputError&) {
  }
  try {
    const Image image = decode(file, "input", kMaxPixels);
    if (image.width != header.width || image.height != header.height || image.channels != header.channels ||
        image.pixels.size() != static_cast<std::size_t>(image.width * image.height * image.channels)) {
      std::abort();  // the size checked before decoding is not the size decoded
    }
    std::vector<std::uint8_t> sample(3 * 7 * 5);
    for (std::int64_t channels : {1, 3}) to_sample(image, channels, 7, 5, sample.data());
    to_sample(image, image.channels, image.height, image.width,
              std::vector<std::uint8_t>(image.pixels.size()).data());
  } catch (const lamina::InputError&) {
  }
  return 0;
}
