//===- Parser.h - recursive-descent parser for metac ------------*- C++ -*-===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//
//
// The parser builds the AST of one source buffer and reports syntax errors
// through a DiagnosticEngine. Usage:
//
//   llvm::SourceMgr srcMgr;
//   srcMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
//   metac::DiagnosticEngine diags(srcMgr);
//   std::unique_ptr<metac::Program> program = metac::Parser(srcMgr,
//   diags).parse(); if (diags.hasErrors()) return 1;
//
// Error handling: the first syntax error in a declaration is reported, then
// the parser skips to the start of the next top-level declaration (`tasks N
// {`, `model N (`, `learner N {`), so one run reports one error per broken
// declaration and never a cascade. The parser does not crash, loop or
// recurse without bound on any input: nesting is limited to
// kMaxNestingDepth.
//
//===----------------------------------------------------------------------===//

#ifndef METAC_FRONTEND_PARSER_H
#define METAC_FRONTEND_PARSER_H

#include "metac/Frontend/AST.h"
#include "metac/Frontend/Diagnostics.h"
#include "metac/Frontend/Lexer.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"

#include <deque>
#include <memory>

namespace metac {

class Parser {
public:
  /// Maximum depth of nested expressions (parentheses, calls, lists,
  /// operator chains) and of nested blocks.
  static constexpr unsigned kMaxNestingDepth = 256;

  /// Parses the main file of `srcMgr` (its first buffer).
  Parser(llvm::SourceMgr &srcMgr, DiagnosticEngine &diags);
  /// Parses buffer `bufferID` of `srcMgr`.
  Parser(llvm::SourceMgr &srcMgr, unsigned bufferID, DiagnosticEngine &diags);

  /// Parses the whole buffer. Always returns a Program, holding the
  /// declarations that parsed cleanly; callers must check
  /// diags.hasErrors(). An empty file is a valid, empty program.
  std::unique_ptr<Program> parse();

private:
  // Token stream.
  const Token &peek(unsigned n = 0);
  Token consume();
  bool consumeIf(TokenKind kind);
  /// Whether an expression may continue with the current token: inside ( )
  /// or [ ] always; otherwise only if the token is on the same line.
  bool continuesExpression();
  /// `tasks N {`, `model N (` or `learner N {`: where recovery stops.
  bool atDeclarationStart();

  // Diagnostics. Each reports at most one error per declaration and returns
  // true if the message (rather than a lexical error found at the current
  // token) was printed, so callers know whether to attach a note.
  bool errorAt(llvm::SMLoc loc, const llvm::Twine &msg,
               llvm::ArrayRef<llvm::SMRange> ranges = {});
  /// Reports at the current token.
  bool errorAtCurrent(const llvm::Twine &msg);
  /// Reports a missing token: just after the previous token if the current
  /// one starts a new line (the user stopped typing there), else at it.
  bool errorExpected(const llvm::Twine &msg);
  /// Expects `kind`; otherwise reports "expected X <context>" and, if
  /// `openLoc` is valid, a note "to match this '<open>'".
  bool expect(TokenKind kind, const llvm::Twine &msg,
              llvm::SMLoc openLoc = llvm::SMLoc(), llvm::StringRef open = "");
  bool parseIdentifier(Identifier &out, const llvm::Twine &msg);
  bool parseIntegerToken(int64_t &out);
  void recoverToNextDeclaration();

  // Declarations.
  std::unique_ptr<TasksDecl> parseTasksDecl();
  std::unique_ptr<ModelDecl> parseModelDecl();
  std::unique_ptr<LearnerDecl> parseLearnerDecl();
  bool parseType(TypeAST &out, const llvm::Twine &msg);

  // Learner items.
  LearnerItemPtr parseLearnerItem(llvm::StringMap<llvm::SMLoc> &settings);
  LearnerItemPtr parseMetaItem();
  /// `(params, data)`; with `extra`, also `(params, data, initial,
  /// support)` (objectives and metrics), the two extra names going there.
  bool parseParamsAndData(const Token &keyword, Identifier &params,
                          Identifier &data,
                          std::pair<Identifier, Identifier> *extra = nullptr);
  LearnerItemPtr parseAdaptItem();
  LearnerItemPtr parseObjectiveItem();
  LearnerItemPtr parseMetricItem();
  /// `= expr` or a block after `objective(theta, q)` or a metric's header.
  bool parseScalarBody(const Token &keyword, const Identifier &params,
                       const Identifier &data, Block &body, bool &exprForm);
  LearnerItemPtr parseOptimizerItem(Identifier key);
  LearnerItemPtr parseEvaluateItem();
  bool parseItemEnd();

  // Statements.
  /// What a block belongs to, for messages and for the statements allowed.
  struct BlockContext {
    std::string description; ///< "the body of model 'Net'"
    bool allowParam;         ///< `param` is only allowed in models.
  };
  /// An environment's `reset(n) { ... }` or `step(obs, action) { ... }`.
  bool parseEnvironmentBlock(TasksDecl &decl, const std::string &what);
  bool parseBlock(Block &out, const BlockContext &context);
  StmtPtr parseStmt(const BlockContext &context);
  bool parseStmtEnd();
  bool isAssignmentAhead();
  StmtPtr parseAssign();
  StmtPtr parseDraw();
  StmtPtr parseRepeat(const BlockContext &context);
  StmtPtr parseParam();

  // Expressions.
  ExprPtr parseExpr();
  ExprPtr parseComparison();
  ExprPtr parseAdditive();
  ExprPtr parseTerm();
  ExprPtr parseUnary();
  ExprPtr parsePostfix();
  ExprPtr parsePrimary();
  ExprPtr parseNumber();
  ExprPtr parseList();
  std::unique_ptr<CallExpr> parseCallAfterCallee(Identifier callee);
  bool parseKeywordArgs(std::vector<KeywordArg> &kwargs, llvm::StringRef owner,
                        llvm::SMLoc lParenLoc);
  /// Rejects a node higher than kMaxNestingDepth.
  ExprPtr checkHeight(ExprPtr expr);

  class NestingGuard;
  class BracketScope;

  llvm::SourceMgr &srcMgr;
  DiagnosticEngine &diags;
  Lexer lexer;
  std::deque<Token> lookahead;
  /// End of the last consumed token, for errorExpected.
  llvm::SMLoc prevTokenEnd;
  /// Counts consumed tokens, so recovery can tell whether it made progress.
  uint64_t tokensConsumed = 0;
  /// Depth of ( ) and [ ] around the current token: newlines inside them
  /// do not end statements.
  unsigned bracketDepth = 0;
  /// Depth of recursive descent (expressions and blocks).
  unsigned nestingDepth = 0;
  /// Set once the current declaration has reported a syntax error: any
  /// further syntax error in it is a cascade and is not shown.
  bool declarationFailed = false;
};

} // namespace metac

#endif // METAC_FRONTEND_PARSER_H
