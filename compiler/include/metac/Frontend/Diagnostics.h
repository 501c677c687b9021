//===- Diagnostics.h - clang-style diagnostics over a SourceMgr -*- C++ -*-===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//
//
// Every error a user sees, from the lexer to the semantic checks in MLIRGen,
// goes through one DiagnosticEngine so that they all look like clang's:
//
//   algo.meta:4:12: error: expected ')' to close call to 'sin'
//     y = sin(x - phase
//                      ^
//   algo.meta:4:10: note: to match this '('
//
// Printing is delegated to llvm::SourceMgr::PrintMessage, which produces
// exactly that format (source line, caret, and `~~~` underlines for ranges).
//
//===----------------------------------------------------------------------===//

#ifndef METAC_FRONTEND_DIAGNOSTICS_H
#define METAC_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <utility>

namespace metac {

/// Reports errors, warnings and notes against the buffers of a SourceMgr.
///
/// Diagnostics are printed as soon as they are reported. A note always
/// belongs to the error or warning reported just before it: report the
/// error, then call note() (or use the returned DiagnosticBuilder).
///
/// To keep a badly broken file from burying the first, useful message, the
/// engine stops printing after `errorLimit` errors (20 by default, as in
/// clang; 0 means no limit). Suppressed errors are still counted.
class DiagnosticEngine {
public:
  /// Builder returned by error() and warning(), for chaining notes:
  ///   diags.error(loc, "redefinition of 'x'").note(prev, "previous ...");
  class DiagnosticBuilder {
  public:
    DiagnosticBuilder &note(llvm::SMLoc loc, const llvm::Twine &msg,
                            llvm::ArrayRef<llvm::SMRange> ranges = {}) {
      engine.note(loc, msg, ranges);
      return *this;
    }

  private:
    friend class DiagnosticEngine;
    explicit DiagnosticBuilder(DiagnosticEngine &engine) : engine(engine) {}
    DiagnosticEngine &engine;
  };

  /// Diagnostics are written to `os` (stderr by default). The SourceMgr must
  /// outlive the engine; every SMLoc reported must point into one of its
  /// buffers (or be invalid, which prints the message without a location).
  explicit DiagnosticEngine(llvm::SourceMgr &srcMgr,
                            llvm::raw_ostream &os = llvm::errs());

  DiagnosticBuilder error(llvm::SMLoc loc, const llvm::Twine &msg,
                          llvm::ArrayRef<llvm::SMRange> ranges = {});
  DiagnosticBuilder warning(llvm::SMLoc loc, const llvm::Twine &msg,
                            llvm::ArrayRef<llvm::SMRange> ranges = {});
  /// Attaches a note to the most recent error or warning. A note after a
  /// suppressed error (see the error limit) is suppressed too.
  void note(llvm::SMLoc loc, const llvm::Twine &msg,
            llvm::ArrayRef<llvm::SMRange> ranges = {});

  unsigned errorCount() const { return numErrors; }
  unsigned warningCount() const { return numWarnings; }
  bool hasErrors() const { return numErrors != 0; }

  /// Stops printing after `limit` errors; 0 disables the limit.
  void setErrorLimit(unsigned limit) { errorLimit = limit; }

  llvm::SourceMgr &getSourceMgr() const { return srcMgr; }

  /// 1-based line and column of `loc`, e.g. to build an mlir::FileLineColLoc
  /// that points at the same place as a diagnostic would. {0, 0} if invalid.
  std::pair<unsigned, unsigned> getLineAndColumn(llvm::SMLoc loc) const;
  /// Name of the buffer `loc` points into (the file name as given), or "".
  llvm::StringRef getBufferName(llvm::SMLoc loc) const;

private:
  void emit(llvm::SMLoc loc, llvm::SourceMgr::DiagKind kind,
            const llvm::Twine &msg, llvm::ArrayRef<llvm::SMRange> ranges);

  llvm::SourceMgr &srcMgr;
  llvm::raw_ostream &os;
  unsigned numErrors = 0;
  unsigned numWarnings = 0;
  unsigned errorLimit = 20;
  /// Whether the last error or warning was printed; its notes follow suit.
  bool lastPrinted = true;
  bool reportedLimit = false;
};

} // namespace metac

#endif // METAC_FRONTEND_DIAGNOSTICS_H
