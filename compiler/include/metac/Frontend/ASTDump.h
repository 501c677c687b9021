//===- ASTDump.h - textual dump of the metac AST ----------------*- C++ -*-===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//
//
// `metac -emit=ast` prints the AST as an indented tree, one node per line,
// each with its line:column, in the spirit of MLIR's Toy tutorial:
//
//   Program
//     Model Net @8:1
//       Arg x : f32[n, 1] @8:11
//       Result f32[n, 1] @8:28
//       Assign h @9:3
//         Call relu @9:7
//           Call dense @9:12
//             Name x @9:18
//             Number 40 @9:21
//
// The format is stable: lit tests check it with FileCheck.
//
//===----------------------------------------------------------------------===//

#ifndef METAC_FRONTEND_ASTDUMP_H
#define METAC_FRONTEND_ASTDUMP_H

namespace llvm {
class raw_ostream;
class SourceMgr;
} // namespace llvm

namespace metac {

class Program;

/// Dumps `program`; locations are resolved with the SourceMgr the parser
/// recorded in the Program (without one, locations are omitted).
void dumpAST(const Program &program, llvm::raw_ostream &os);

/// Same, resolving locations with `srcMgr`.
void dumpAST(const Program &program, const llvm::SourceMgr &srcMgr,
             llvm::raw_ostream &os);

} // namespace metac

#endif // METAC_FRONTEND_ASTDUMP_H
