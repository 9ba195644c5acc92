// The augmentations that move pixels: random_crop (pad, then crop back at a random offset),
// random_shift (a random translation of up to a fraction of the size), hflip.
#pragma once

#include <lamina/augmentation.hpp>
#include <lamina/config.hpp>

#include <memory>
#include <vector>

namespace lamina_augmentations {

std::unique_ptr<lamina::Augmentation> make_random_crop(const lamina::Config& c);
std::unique_ptr<lamina::Augmentation> make_random_shift(const lamina::Config& c);
std::unique_ptr<lamina::Augmentation> make_hflip(const lamina::Config& c);

}  // namespace lamina_augmentations
