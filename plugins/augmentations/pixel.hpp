// The augmentations that change values in place: gaussian noise, cutout.
#pragma once

#include <lamina/augmentation.hpp>
#include <lamina/config.hpp>

#include <memory>

namespace lamina_augmentations {

std::unique_ptr<lamina::Augmentation> make_noise(const lamina::Config& c);
std::unique_ptr<lamina::Augmentation> make_cutout(const lamina::Config& c);
std::unique_ptr<lamina::Augmentation> make_mixup(const lamina::Config& c);

}  // namespace lamina_augmentations
