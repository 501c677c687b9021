//===- MetaDialect.cpp - Registration of the meta dialect -----------------===//
#include "metac/Dialect/MetaDialect.h"

using namespace mlir;
using namespace metac::meta;

#include "metac/Dialect/DerivativeInterface.cpp.inc"
#include "metac/Dialect/MetaOpsDialect.cpp.inc"

void MetaDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "metac/Dialect/MetaOps.cpp.inc"
      >();
}

/// Folders return attributes; this turns them back into `meta.constant`.
Operation *MetaDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, elements);
}
