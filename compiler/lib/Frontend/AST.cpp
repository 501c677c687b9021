//===- AST.cpp - abstract syntax tree of the metac language ---------------===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//

#include "metac/Frontend/AST.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace metac;
using llvm::SMLoc;
using llvm::SMRange;

// Out-of-line virtual destructors anchor the vtables in this file.
Expr::~Expr() = default;
Stmt::~Stmt() = default;
LearnerItem::~LearnerItem() = default;
Decl::~Decl() = default;

std::string TypeAST::str() const {
  std::string result = elementType;
  if (!shaped)
    return result;
  llvm::raw_string_ostream os(result);
  os << '[';
  for (size_t i = 0, e = dims.size(); i != e; ++i) {
    if (i)
      os << ", ";
    if (dims[i].isSymbolic)
      os << dims[i].symbol;
    else
      os << dims[i].size;
  }
  os << ']';
  return result;
}

// Heights are computed once, bottom-up, as nodes are built; the parser
// checks them to bound every later recursive walk.
static unsigned heightOf(const ExprPtr &e) { return e ? e->getHeight() : 0; }

FieldExpr::FieldExpr(ExprPtr base, Identifier field, SMLoc dotLoc)
    : Expr(Kind::Field, field.loc,
           SMRange(base->getStartLoc(), field.getRange().End),
           heightOf(base) + 1),
      base(std::move(base)), field(std::move(field)), dotLoc(dotLoc) {}

static unsigned maxHeight(llvm::ArrayRef<ExprPtr> exprs) {
  unsigned h = 0;
  for (const ExprPtr &e : exprs)
    h = std::max(h, heightOf(e));
  return h;
}

IndexExpr::IndexExpr(ExprPtr base, std::vector<ExprPtr> indices,
                     SMLoc lSquareLoc, SMLoc endLoc)
    : Expr(Kind::Index, lSquareLoc, SMRange(base->getStartLoc(), endLoc),
           std::max(heightOf(base), maxHeight(indices)) + 1),
      base(std::move(base)), indices(std::move(indices)) {}

static unsigned callHeight(llvm::ArrayRef<ExprPtr> args,
                           llvm::ArrayRef<KeywordArg> kwargs) {
  unsigned h = maxHeight(args);
  for (const KeywordArg &kw : kwargs)
    h = std::max(h, heightOf(kw.value));
  return h + 1;
}

CallExpr::CallExpr(Identifier callee, std::vector<ExprPtr> args,
                   std::vector<KeywordArg> kwargs, SMLoc lParenLoc,
                   SMLoc endLoc)
    : Expr(Kind::Call, callee.loc, SMRange(callee.loc, endLoc),
           callHeight(args, kwargs)),
      callee(std::move(callee)), args(std::move(args)),
      kwargs(std::move(kwargs)), lParenLoc(lParenLoc) {}

static const KeywordArg *findKwarg(llvm::ArrayRef<KeywordArg> kwargs,
                                   llvm::StringRef name) {
  for (const KeywordArg &kw : kwargs)
    if (kw.name.name == name)
      return &kw;
  return nullptr;
}

const KeywordArg *CallExpr::getKwarg(llvm::StringRef name) const {
  return findKwarg(kwargs, name);
}

llvm::StringRef metac::getBinaryOpSpelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::MatMul:
    return "@";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  }
  return "?";
}

bool metac::isComparison(BinaryOp op) {
  switch (op) {
  case BinaryOp::Lt:
  case BinaryOp::Le:
  case BinaryOp::Gt:
  case BinaryOp::Ge:
  case BinaryOp::Eq:
  case BinaryOp::Ne:
    return true;
  default:
    return false;
  }
}

BinaryExpr::BinaryExpr(BinaryOp op, ExprPtr lhs, ExprPtr rhs, SMLoc opLoc)
    : Expr(Kind::Binary, opLoc,
           SMRange(lhs->getStartLoc(), rhs->getRange().End),
           std::max(heightOf(lhs), heightOf(rhs)) + 1),
      op(op), lhs(std::move(lhs)), rhs(std::move(rhs)) {}

UnaryExpr::UnaryExpr(UnaryOp op, ExprPtr operand, SMLoc opLoc)
    : Expr(Kind::Unary, opLoc, SMRange(opLoc, operand->getRange().End),
           heightOf(operand) + 1),
      op(op), operand(std::move(operand)) {}

ListExpr::ListExpr(std::vector<ExprPtr> elements, SMLoc lSquareLoc,
                   SMLoc endLoc)
    : Expr(Kind::List, lSquareLoc, SMRange(lSquareLoc, endLoc),
           maxHeight(elements) + 1),
      elements(std::move(elements)) {}

std::string AssignStmt::getPathString() const {
  std::string result;
  for (const Identifier &component : path) {
    if (!result.empty())
      result += '.';
    result += component.name;
  }
  return result;
}

const KeywordArg *OptimizerItem::getKwarg(llvm::StringRef name) const {
  return findKwarg(kwargs, name);
}

const EvalPair *EvaluateItem::lookup(llvm::StringRef key) const {
  for (const EvalPair &pair : pairs)
    if (pair.key.name == key)
      return &pair;
  return nullptr;
}

const SettingItem *LearnerDecl::getSetting(llvm::StringRef key) const {
  for (const LearnerItemPtr &item : items)
    if (const auto *setting = llvm::dyn_cast<SettingItem>(item.get()))
      if (setting->getKey() == key)
        return setting;
  return nullptr;
}

const Decl *Program::lookup(llvm::StringRef name) const {
  for (const DeclPtr &decl : decls)
    if (decl->getName() == name)
      return decl.get();
  return nullptr;
}
