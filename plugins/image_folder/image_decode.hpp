// Decoding one PNG or JPEG file held in memory, as the image_folder source uses it: the format
// by the file's first bytes (never its name), the size read from the header and checked
// against a limit before any pixel is decoded, 8-bit gray or RGB out, interleaved. Every defect
// (not an image, truncated, corrupt, 16-bit, too large) is an InputError naming the file.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lamina_image_folder {

struct Image {
  std::int64_t width = 0, height = 0, channels = 0;  // channels: 1 (gray) or 3 (RGB)
  std::vector<std::uint8_t> pixels;                  // height x width x channels
};

struct ImageHeader {
  std::int64_t width = 0, height = 0, channels = 0;
};

// The header alone: format, size, channels. `max_pixels` bounds width x height.
ImageHeader read_header(std::span<const std::uint8_t> file, const std::string& name, std::int64_t max_pixels);

// The whole image (its header checked first, as above).
Image decode(std::span<const std::uint8_t> file, const std::string& name, std::int64_t max_pixels);

}  // namespace lamina_image_folder
