//===- Diagnostics.cpp - clang-style diagnostics over a SourceMgr ---------===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//

#include "metac/Frontend/Diagnostics.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace metac;
using llvm::SMLoc;
using llvm::SMRange;
using llvm::SourceMgr;

DiagnosticEngine::DiagnosticEngine(SourceMgr &srcMgr, llvm::raw_ostream &os)
    : srcMgr(srcMgr), os(os) {}

DiagnosticEngine::DiagnosticBuilder
DiagnosticEngine::error(SMLoc loc, const llvm::Twine &msg,
                        llvm::ArrayRef<SMRange> ranges) {
  ++numErrors;
  lastPrinted = errorLimit == 0 || numErrors <= errorLimit;
  if (lastPrinted) {
    emit(loc, SourceMgr::DK_Error, msg, ranges);
  } else if (!reportedLimit) {
    // Said once, without a location: it is about the run, not the source.
    reportedLimit = true;
    os << "error: too many errors emitted, stopping now\n";
    os.flush();
  }
  return DiagnosticBuilder(*this);
}

DiagnosticEngine::DiagnosticBuilder
DiagnosticEngine::warning(SMLoc loc, const llvm::Twine &msg,
                          llvm::ArrayRef<SMRange> ranges) {
  ++numWarnings;
  // Once the error limit is hit nothing more is worth reading.
  lastPrinted = !reportedLimit;
  if (lastPrinted)
    emit(loc, SourceMgr::DK_Warning, msg, ranges);
  return DiagnosticBuilder(*this);
}

void DiagnosticEngine::note(SMLoc loc, const llvm::Twine &msg,
                            llvm::ArrayRef<SMRange> ranges) {
  if (lastPrinted)
    emit(loc, SourceMgr::DK_Note, msg, ranges);
}

void DiagnosticEngine::emit(SMLoc loc, SourceMgr::DiagKind kind,
                            const llvm::Twine &msg,
                            llvm::ArrayRef<SMRange> ranges) {
  // PrintMessage only colours when `os` is a terminal, so lit tests see
  // plain text.
  if (loc.isValid() && srcMgr.FindBufferContainingLoc(loc))
    srcMgr.PrintMessage(os, loc, kind, msg, ranges);
  else // About the whole run (or a bad location): no "<unknown>:0:" prefix.
    llvm::SMDiagnostic("", kind, msg.str()).print(nullptr, os);
  os.flush();
}

std::pair<unsigned, unsigned>
DiagnosticEngine::getLineAndColumn(SMLoc loc) const {
  if (!loc.isValid() || !srcMgr.FindBufferContainingLoc(loc))
    return {0, 0};
  return srcMgr.getLineAndColumn(loc);
}

llvm::StringRef DiagnosticEngine::getBufferName(SMLoc loc) const {
  if (!loc.isValid())
    return "";
  unsigned id = srcMgr.FindBufferContainingLoc(loc);
  if (!id)
    return "";
  return srcMgr.getMemoryBuffer(id)->getBufferIdentifier();
}
