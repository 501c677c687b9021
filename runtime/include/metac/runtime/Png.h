//===- metac/runtime/Png.h - Grayscale PNG files ----------------*- C++ -*-===//
//
// Just enough PNG for the data layer: read any PNG (1-, 8- or 16-bit, gray,
// palette or colour, with or without alpha) as 8-bit gray, and write 8-bit
// gray. Both throw Error with a message that names the file.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_PNG_H
#define METAC_RUNTIME_PNG_H

#include <cstdint>
#include <string>
#include <vector>

namespace metac::runtime {

struct GrayImage {
  int Width = 0;
  int Height = 0;
  /// Row-major, 0 = black, 255 = white (as stored in the file).
  std::vector<uint8_t> Pixels;
};

GrayImage readGrayPng(const std::string &Path);
void writeGrayPng(const std::string &Path, const GrayImage &Image);

} // namespace metac::runtime

#endif // METAC_RUNTIME_PNG_H
