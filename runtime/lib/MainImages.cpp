//===- MainImages.cpp - Entry point of executables of image programs ------===//
//
// The whole of libmetac_main_images.a: main() for programs whose tasks come
// from a built-in image source. It differs from Main.cpp only in handing the
// data layer's task source to runMain, so that other executables need not
// link FreeType and libpng.
//
//===----------------------------------------------------------------------===//

#include "metac/abi.h"
#include "metac/runtime/Driver.h"
#include "metac/runtime/ImageTasks.h"

int main(int Argc, char **Argv) {
  return metac::runtime::runMain(Argc, Argv, metac_target, metac_program(),
                                 metac_kernels,
                                 metac::runtime::createImageTaskSource);
}
