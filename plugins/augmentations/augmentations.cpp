// The built-in augmentations (lamina/augmentation.hpp), listed under data.augment and applied in
// order to training batches only.
#include <lamina/plugin.hpp>

#include "pixel.hpp"
#include "spatial.hpp"

namespace lamina_augmentations {

using namespace lamina;

void register_types(Registrar& r) {
  const auto fill = [] {
    return Key::string("fill",
                       "what a pixel moved in from outside reads: zeros, edge (the nearest border pixel) or "
                       "reflect (mirrored at the border)")
        .one_of({"zeros", "edge", "reflect"});
  };
  r.add<Augmentation>("random_crop",
                      "pads each image by `padding` pixels on every side and crops it back to its size at a random "
                      "offset (torchvision's RandomCrop(size, padding)); images (C, H, W)",
                      Schema{Key::integer("padding", "the largest offset, in pixels (0: the identity)")
                                 .def(4)
                                 .at_least(0)
                                 .at_most(4096),
                             fill().def("zeros")},
                      make_random_crop);
  r.add<Augmentation>("random_shift",
                      "moves each image by a random offset of up to `fraction` of its height and width (Keras's "
                      "RandomTranslation); images",
                      Schema{Key::number("fraction", "the largest offset as a fraction of the size (0: the identity)")
                                 .def(0.1)
                                 .at_least(0)
                                 .at_most(1),
                             fill().def("edge")},
                      make_random_shift);
  r.add<Augmentation>("hflip", "mirrors each image left to right with probability p; images",
                      Schema{Key::number("p", "the probability of a flip (0: the identity)").def(0.5).at_least(0).at_most(1)},
                      make_hflip);
  r.add<Augmentation>("noise",
                      "adds gaussian noise to every input value, after data.scale; any samples",
                      Schema{Key::number("std", "the standard deviation (0: the identity)").def(0.05).at_least(0).at_most(1e6)},
                      make_noise);
  r.add<Augmentation>("cutout",
                      "sets a size x size square at a random place of each image to zero (DeVries & Taylor 2017); "
                      "images",
                      Schema{Key::integer("size", "the square's side, in pixels (0: the identity)").def(8).at_least(0).at_most(65536),
                             Key::number("p", "the probability that an image is cut").def(1.0).at_least(0).at_most(1)},
                      make_cutout);
  r.add<Augmentation>("mixup",
                      "mixes each sample and its targets with another of the batch, by a weight drawn from "
                      "Beta(alpha, alpha) per batch (Zhang et al. 2018); classes become class probabilities, which "
                      "softmax_cross_entropy takes",
                      Schema{Key::number("alpha", "the Beta distribution's parameter (0: the identity)").def(0.2).at_least(0).at_most(1e3)},
                      make_mixup);
}

}  // namespace lamina_augmentations

LAMINA_PLUGIN("augmentations", LAMINA_VERSION_STRING,
              "Data augmentations: random_crop, random_shift, hflip, noise, cutout, mixup",
              lamina_augmentations::register_types)
