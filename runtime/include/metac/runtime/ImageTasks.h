//===- metac/runtime/ImageTasks.h - Episodes as tasks -----------*- C++ -*-===//
//
// The task source of image programs (`tasks Chars = glyphs(way = 5)`), in
// library metac_data. Executables of such programs link
// libmetac_main_images.a, whose main() hands createImageTaskSource to runMain.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_IMAGETASKS_H
#define METAC_RUNTIME_IMAGETASKS_H

#include "metac/runtime/TaskSource.h"

namespace metac::runtime {

/// Loads the program's image set (--omniglot DIR, the program's Omniglot
/// folder, or the glyph set) and samples Way-way episodes from it: training
/// from background classes, evaluation from held-out ones. Throws Error if
/// the data cannot be loaded or a split is too small for the episodes.
std::unique_ptr<TaskSource>
createImageTaskSource(const Program &P, const TaskSourceOptions &Options);

} // namespace metac::runtime

#endif // METAC_RUNTIME_IMAGETASKS_H
