#include "image_decode.hpp"

#include <fmt/format.h>
#include <jpeglib.h>
#include <lamina/error.hpp>
#include <png.h>

#include <csetjmp>
#include <cstdio>

namespace lamina_image_folder {

using lamina::InputError;

namespace {

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

bool is_png(std::span<const std::uint8_t> f) {
  return f.size() >= 8 && std::equal(kPngSignature, kPngSignature + 8, f.begin());
}
bool is_jpeg(std::span<const std::uint8_t> f) { return f.size() >= 3 && f[0] == 0xff && f[1] == 0xd8 && f[2] == 0xff; }

std::uint32_t big_endian(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void check_size(std::int64_t width, std::int64_t height, const std::string& name, std::int64_t max_pixels) {
  if (width <= 0 || height <= 0) throw InputError(fmt::format("{}: an image of {} x {} pixels", name, width, height));
  // Compared by division: a header's 32-bit width times its height overflows 64 bits' signed range.
  if (width > max_pixels / height) {
    throw InputError(fmt::format("{}: an image of {} x {} pixels, more than data.max_pixels ({}); refused before "
                                 "decoding",
                                 name, width, height, max_pixels));
  }
}

// PNG's header is the IHDR chunk right after the signature: width, height, bit depth, colour
// type. Read by hand so that the size and depth are checked before libpng allocates anything.
ImageHeader png_header(std::span<const std::uint8_t> f, const std::string& name, std::int64_t max_pixels) {
  if (f.size() < 8 + 8 + 13 || big_endian(f.data() + 8) != 13 || std::string_view(reinterpret_cast<const char*>(f.data() + 12), 4) != "IHDR") {
    throw InputError(fmt::format("{}: a truncated or damaged PNG (no IHDR header)", name));
  }
  const std::int64_t width = big_endian(f.data() + 16), height = big_endian(f.data() + 20);
  const int depth = f[24], colour = f[25];
  if (depth == 16) {
    throw InputError(fmt::format("{}: a 16-bit PNG; image_folder reads 8-bit images (convert it, e.g. with "
                                 "ImageMagick's `convert IN -depth 8 OUT`)",
                                 name));
  }
  check_size(width, height, name, max_pixels);
  // Gray and gray + alpha are one channel; RGB, RGBA and palette images three.
  return {width, height, colour == 0 || colour == 4 ? 1 : 3};
}

Image png_decode(std::span<const std::uint8_t> f, const std::string& name, std::int64_t max_pixels) {
  const ImageHeader h = png_header(f, name, max_pixels);
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, f.data(), f.size())) {
    throw InputError(fmt::format("{}: not a valid PNG ({})", name, png.message));
  }
  png.format = h.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  Image image{static_cast<std::int64_t>(png.width), static_cast<std::int64_t>(png.height), h.channels, {}};
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  const png_color black{0, 0, 0};  // an alpha channel is composited onto black
  if (!png_image_finish_read(&png, &black, image.pixels.data(), 0, nullptr)) {
    const std::string why = png.message;
    png_image_free(&png);
    throw InputError(fmt::format("{}: a truncated or corrupt PNG ({})", name, why));
  }
  return image;
}

// libjpeg reports errors through a callback that must not return: it jumps back to decode's
// setjmp (C++ exceptions must not cross libjpeg's C frames). Warnings, which libjpeg emits for
// truncated and corrupt data before padding the image with gray, are errors here too.
struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_fail(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegErrors*>(c->err);
  c->err->format_message(c, e->message);
  std::longjmp(e->jump, 1);
}

void jpeg_message(j_common_ptr c, int level) {
  if (level < 0) jpeg_fail(c);  // a warning; trace messages (level >= 0) are ignored
}

// The JPEG's header (and, unless header_only, its pixels into `image`).
ImageHeader jpeg_read(std::span<const std::uint8_t> f, const std::string& name, std::int64_t max_pixels,
                      Image* image) {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  cinfo.err = jpeg_std_error(&errors.mgr);
  errors.mgr.error_exit = jpeg_fail;
  errors.mgr.emit_message = jpeg_message;
  ImageHeader h;
  std::string refusal;  // a refusal of ours, thrown once libjpeg's state is destroyed
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw InputError(fmt::format("{}: a truncated or corrupt JPEG ({})", name, errors.message));
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, const_cast<unsigned char*>(f.data()), static_cast<unsigned long>(f.size()));
  jpeg_read_header(&cinfo, TRUE);
  h.width = cinfo.image_width;
  h.height = cinfo.image_height;
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    refusal = fmt::format("{}: a CMYK JPEG; image_folder reads gray and RGB images", name);
  } else if (h.width <= 0 || h.height <= 0 || h.width > max_pixels / h.height) {
    refusal = "size";
  }
  h.channels = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
  if (refusal.empty() && image) {
    cinfo.out_color_space = h.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    image->width = cinfo.output_width;
    image->height = cinfo.output_height;
    image->channels = cinfo.output_components;
    const auto stride = static_cast<std::size_t>(image->width * image->channels);
    image->pixels.resize(stride * static_cast<std::size_t>(image->height));
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = image->pixels.data() + stride * cinfo.output_scanline;
      jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  if (refusal == "size") check_size(h.width, h.height, name, max_pixels);
  if (!refusal.empty()) throw InputError(refusal);
  return h;
}

[[noreturn]] void not_an_image(std::span<const std::uint8_t> f, const std::string& name) {
  if (f.empty()) throw InputError(fmt::format("{}: an empty file, not an image", name));
  std::string first;
  for (std::size_t i = 0; i < std::min<std::size_t>(4, f.size()); ++i) first += fmt::format("{}{:02x}", i ? " " : "", f[i]);
  throw InputError(fmt::format("{}: not a PNG or JPEG image (it begins with bytes {})", name, first));
}

}  // namespace

ImageHeader read_header(std::span<const std::uint8_t> file, const std::string& name, std::int64_t max_pixels) {
  if (is_png(file)) return png_header(file, name, max_pixels);
  if (is_jpeg(file)) return jpeg_read(file, name, max_pixels, nullptr);
  not_an_image(file, name);
}

Image decode(std::span<const std::uint8_t> file, const std::string& name, std::int64_t max_pixels) {
  if (is_png(file)) return png_decode(file, name, max_pixels);
  if (is_jpeg(file)) {
    Image image;
    jpeg_read(file, name, max_pixels, &image);
    return image;
  }
  not_an_image(file, name);
}

}  // namespace lamina_image_folder
