//===- metac/runtime/Omniglot.h - Real Omniglot folders ---------*- C++ -*-===//
//
// Loads the Omniglot data set (Lake et al. 2015) from its standard layout,
//
//   ROOT/images_background/ALPHABET/characterNN/*.png
//   ROOT/images_evaluation/ALPHABET/characterNN/*.png
//
// (105 x 105 PNGs, black strokes on white) into a ClassImageSet: inverted so
// that ink is 1, area-resized to Size x Size. Alphabets, characters and
// drawings are taken in name order, so the result does not depend on the
// order of directory entries.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_OMNIGLOT_H
#define METAC_RUNTIME_OMNIGLOT_H

#include "metac/runtime/ImageSet.h"

#include <string>

namespace metac::runtime {

/// Throws Error naming the folder or file if a split folder is missing, an
/// alphabet or character folder is empty, or a PNG cannot be read.
ClassImageSet loadOmniglot(const std::string &Root, int Size = 28);

} // namespace metac::runtime

#endif // METAC_RUNTIME_OMNIGLOT_H
