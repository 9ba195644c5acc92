#!/usr/bin/env python3
"""Writes Fashion-MNIST as folders of image files, one sub-folder per class, for the
image_folder data source (its test and docs/experiments.md).

  scripts/image-folders.py png OUT [--train N] [--test N] [--data DIR]
      -> OUT/train/<class>/<index>.png and OUT/test/...: 8-bit gray PNGs of 28 x 28, the images
         unchanged; and beside them the same images as IDX files in the folders' order
         (OUT/{train,t10k}-{images-idx3,labels-idx1}-ubyte), class by class and by index within
         a class, so that `source: idx` on those files and `source: image_folder` on the folders
         must train byte for byte alike.
  scripts/image-folders.py jpeg OUT [--train N] [--test N] [--size S] [--data DIR]
      -> OUT/train/<class>/<index>.jpg and OUT/test/...: RGB JPEGs (quality 95) of S x S
         (default 32), each image resized (bilinear) and tinted with a colour of its own, so
         that gray conversion and resizing in the reader have real work to do.

Class folders are named "0-t-shirt" ... "9-ankle-boot": their sorted order is the label order.
N limits each split to its first N images (default: all). Needs numpy and OpenCV (Debian's
python3-numpy and python3-opencv), which write the files with libpng and libjpeg.
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np

CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(data_dir, stem):
    for ext in (".gz", ""):
        p = os.path.join(data_dir, stem + ext)
        if os.path.exists(p):
            return p
    sys.exit(f"image-folders: {data_dir} has no {stem}(.gz); install dataset-fashion-mnist or pass --data")


def write_idx(path, array):
    dims = array.shape
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims) + array.tobytes())


def folder_order(labels):
    """Indices class by class, ascending within each: the order image_folder reads them in."""
    return np.concatenate([np.flatnonzero(labels == c) for c in range(len(CLASSES))])


def write_split(cv2, out, split, images, labels, ext, convert):
    for c, name in enumerate(CLASSES):
        os.makedirs(os.path.join(out, split, f"{c}-{name}"), exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext == "jpg" else []
    for i, (image, label) in enumerate(zip(images, labels)):
        path = os.path.join(out, split, f"{label}-{CLASSES[label]}", f"{i:05d}.{ext}")
        if not cv2.imwrite(path, convert(image, i), params):
            sys.exit(f"image-folders: cannot write {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("format", choices=["png", "jpeg"])
    p.add_argument("out")
    p.add_argument("--train", type=int, default=None, help="first N training images (default all)")
    p.add_argument("--test", type=int, default=None, help="first N test images (default all)")
    p.add_argument("--size", type=int, default=32, help="jpeg: side of the square images (default 32)")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="folder of the IDX files")
    a = p.parse_args()
    import cv2

    splits = {}
    for split, prefix, limit in (("train", "train", a.train), ("test", "t10k", a.test)):
        images = read_idx(find(a.data, f"{prefix}-images-idx3-ubyte"))[:limit]
        labels = read_idx(find(a.data, f"{prefix}-labels-idx1-ubyte"))[:limit]
        splits[split] = (prefix, images, labels)

    if a.format == "png":
        for split, (prefix, images, labels) in splits.items():
            write_split(cv2, a.out, split, images, labels, "png", lambda image, i: image)
            order = folder_order(labels)
            write_idx(os.path.join(a.out, f"{prefix}-images-idx3-ubyte"), images[order])
            write_idx(os.path.join(a.out, f"{prefix}-labels-idx1-ubyte"), labels[order])
    else:
        rng = np.random.default_rng(0)
        for split, (prefix, images, labels) in splits.items():
            tints = rng.uniform(0.4, 1.0, size=(len(images), 3))

            def convert(image, i):
                big = cv2.resize(image, (a.size, a.size), interpolation=cv2.INTER_LINEAR).astype(np.float32)
                bgr = big[:, :, None] * tints[i][None, None, :]
                return np.clip(bgr + 0.5, 0, 255).astype(np.uint8)

            write_split(cv2, a.out, split, images, labels, "jpg", convert)
    print(f"image-folders: wrote {a.out}/train and {a.out}/test "
          f"({len(splits['train'][1])} + {len(splits['test'][1])} {a.format} images)")


if __name__ == "__main__":
    main()
