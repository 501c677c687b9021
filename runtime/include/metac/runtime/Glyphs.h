//===- metac/runtime/Glyphs.h - An Omniglot-like glyph set ------*- C++ -*-===//
//
// Omniglot cannot be downloaded here, so the runtime builds a substitute from
// installed Debian packages: characters of about fifty scripts, taken from
// the Noto fonts (fonts-noto-core, rendered with FreeType) and from the
// Hershey stroke fonts (hershey-fonts-data), each drawn by 20 "drawers".
//
// Every character becomes a set of pen strokes (the Hershey strokes as they
// are; a Noto glyph by thinning its rendered bitmap to a one-pixel skeleton),
// normalised to its bounding box. A drawer is a fixed, seeded handwriting
// style applied alike to every character: an elastic warp (a smooth
// displacement field), rotation, shear, aspect, size and offset, and a pen
// width that also varies smoothly along the strokes. Each image adds a small
// variation of its own. The strokes are drawn as anti-aliased thick lines at
// twice the output size and area-downsampled to 28 x 28 (ink 1, background
// 0). docs/data.md shows the result.
//
// Alphabets are split into background and evaluation alphabets by a fixed
// table (following Omniglot's own split where the script is the same), so no
// alphabet and no character is in both. Everything is a pure function of the
// installed fonts and of the options: building twice gives the same bytes.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_GLYPHS_H
#define METAC_RUNTIME_GLYPHS_H

#include "metac/runtime/ImageSet.h"

#include <string>
#include <vector>

namespace metac::runtime {

struct GlyphOptions {
  /// Where fonts-noto-core installs its fonts.
  std::string NotoDir = "/usr/share/fonts/truetype/noto";
  /// Where hershey-fonts-data installs its .jhf files.
  std::string HersheyDir = "/usr/share/hershey-fonts";
  /// Use only the first N alphabets of the table (0: all). The table
  /// alternates splits, so any N >= 3 has both splits. For tests.
  int MaxAlphabets = 0;
  /// Cap on characters per alphabet, so that no script dominates (Omniglot's
  /// largest alphabet has 55). Larger alphabets are subsampled evenly over
  /// their Unicode block.
  int MaxCharacters = 55;
  /// Drawers (images) per character.
  int Drawers = 20;
  /// Output side in pixels.
  int Size = 28;
  /// Worker threads for building (0: all cores). Does not change the result.
  int Threads = 0;
  /// Cache directory; empty means defaultCacheDir().
  std::string CacheDir;
};

/// One alphabet as found on this machine, before any drawer is rendered.
struct GlyphAlphabetInfo {
  std::string Name;
  Split DataSplit = Split::Background;
  /// The font file it comes from.
  std::string Source;
  /// Characters kept (after dropping empty and duplicate glyphs and
  /// applying MaxCharacters); 0 if the font file is not installed.
  int Characters = 0;
  /// Candidates dropped as empty, tiny or duplicates of another character.
  int Dropped = 0;
  bool Installed = true;
};

/// Lists the alphabets and their characters without rendering any drawer.
/// Throws Error if a font directory is missing.
std::vector<GlyphAlphabetInfo> listGlyphAlphabets(const GlyphOptions &Options);

/// Builds the glyph set (no cache). Alphabets with no installed font are
/// left out. Throws Error if a font directory is missing or nothing at all
/// could be found.
ClassImageSet buildGlyphSet(const GlyphOptions &Options);

/// What loadGlyphSet did.
struct GlyphLoadInfo {
  std::string CachePath;
  bool FromCache = false;
  /// Why the cache was not used ("missing", "checksum mismatch", ...).
  std::string CacheMiss;
  double Seconds = 0;
};

/// The cache file for these options: CacheDir/glyphs-vV.G-KEY.bin, where V is
/// the cache format version, G the generator version and KEY a hash of the
/// options and of the font files' sizes and modification times.
std::string glyphCachePath(const GlyphOptions &Options);

/// Loads the glyph set from its cache, or builds it and writes the cache
/// (atomically). A corrupt or truncated cache is rebuilt.
ClassImageSet loadGlyphSet(const GlyphOptions &Options,
                           GlyphLoadInfo *Info = nullptr);

} // namespace metac::runtime

#endif // METAC_RUNTIME_GLYPHS_H
