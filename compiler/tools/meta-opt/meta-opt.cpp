//===- meta-opt.cpp - Run metac's passes on .mlir files -------------------===//
//
// The mlir-opt of this project: it knows the meta dialect, the dialects the
// lowering goes through, and every pass metac runs, so each stage of the
// pipeline can be tested on its own with lit.
//
//===----------------------------------------------------------------------===//
#include "metac/CodeGen/Pipeline.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  metac::registerMetacDialects(registry);
  metac::registerPipelinePasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "metac optimizer driver\n", registry));
}
