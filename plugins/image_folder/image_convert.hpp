// An image brought to the sample shape the model is trained on: `channels` (gray <-> RGB) and
// height x width (bilinear), written planar (C, H, W) as 8-bit values.
#pragma once

#include <cstdint>

#include "image_decode.hpp"

namespace lamina_image_folder {

// RGB to gray is ITU-R BT.601's luma, 0.299 R + 0.587 G + 0.114 B rounded (what Pillow's
// convert("L") and OpenCV's COLOR_RGB2GRAY compute); gray to RGB repeats the value. Resizing is
// bilinear with pixel centres aligned (OpenCV's INTER_LINEAR, PyTorch's align_corners=False):
// source x = (x + 0.5) * in_w / out_w - 0.5, clamped at the borders, rounded to the nearest
// value. An image already of the size and channels is copied unchanged.
void to_sample(const Image& image, std::int64_t channels, std::int64_t height, std::int64_t width,
               std::uint8_t* out);

}  // namespace lamina_image_folder
