//===- Png.cpp - Grayscale PNG files through libpng -----------------------===//
//
// libpng's simplified API (png_image) converts every colour type and bit
// depth to the requested 8-bit gray format, and reports problems through
// png_image::message instead of longjmp, which would skip C++ destructors.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Png.h"
#include "metac/runtime/Error.h"

#include <png.h>

#include <cstring>

using namespace metac::runtime;

GrayImage metac::runtime::readGrayPng(const std::string &Path) {
  png_image Image;
  std::memset(&Image, 0, sizeof Image);
  Image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&Image, Path.c_str()))
    throw Error("cannot read PNG '" + Path + "': " + Image.message);
  Image.format = PNG_FORMAT_GRAY;
  if (Image.width == 0 || Image.height == 0 || Image.width > 65536 ||
      Image.height > 65536) {
    png_image_free(&Image);
    throw Error("cannot read PNG '" + Path + "': bad size");
  }
  GrayImage Out;
  Out.Width = static_cast<int>(Image.width);
  Out.Height = static_cast<int>(Image.height);
  Out.Pixels.resize(PNG_IMAGE_SIZE(Image));
  // Transparent pixels are composed over white, the paper of a scan.
  png_color White = {255, 255, 255};
  if (!png_image_finish_read(&Image, &White, Out.Pixels.data(), 0, nullptr))
    throw Error("cannot read PNG '" + Path + "': " + Image.message);
  return Out;
}

void metac::runtime::writeGrayPng(const std::string &Path,
                                  const GrayImage &Out) {
  png_image Image;
  std::memset(&Image, 0, sizeof Image);
  Image.version = PNG_IMAGE_VERSION;
  Image.width = Out.Width;
  Image.height = Out.Height;
  Image.format = PNG_FORMAT_GRAY;
  if (!png_image_write_to_file(&Image, Path.c_str(), 0, Out.Pixels.data(), 0,
                               nullptr))
    throw Error("cannot write PNG '" + Path + "': " + Image.message);
}
