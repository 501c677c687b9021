//===- AST.h - abstract syntax tree of the metac language -------*- C++ -*-===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//
//
// The AST is a faithful picture of the source: names are kept as written and
// nothing is resolved, typed or shape-checked here (MLIRGen does that). Every
// node carries an llvm::SMLoc, plus the ranges a diagnostic needs to
// underline, so semantic errors can point at the right token.
//
// Shape of a program:
//
//   Program ── Decl*            TasksDecl | ModelDecl | LearnerDecl
//   TasksDecl ── latents: Stmt* (DrawStmt | AssignStmt), sample(n) Block,
//                or a source CallExpr (`tasks Chars = glyphs(way = 5)`)
//   ModelDecl ── TypedArg*, optional result TypeAST, Block
//   LearnerDecl ── LearnerItem*
//   Block ── Stmt*              AssignStmt | DrawStmt | RepeatStmt |
//                               ParamStmt | ExprStmt
//   Expr                        NumberExpr | StringExpr | NameExpr |
//                               FieldExpr | IndexExpr | CallExpr |
//                               BinaryExpr | UnaryExpr | ListExpr
//
// Expr, Stmt, Decl and LearnerItem use LLVM-style RTTI: switch on getKind()
// or use llvm::isa / dyn_cast / cast. Children are owned by std::unique_ptr.
//
// The parser bounds the height of every expression (Expr::getHeight) and the
// nesting of blocks, so a recursive walk over the AST cannot overflow the
// stack whatever the input.
//
//===----------------------------------------------------------------------===//

#ifndef METAC_FRONTEND_AST_H
#define METAC_FRONTEND_AST_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/SMLoc.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace metac {

/// A name as written in the source, with its location.
struct Identifier {
  std::string name;
  llvm::SMLoc loc;

  Identifier() = default;
  Identifier(std::string name, llvm::SMLoc loc)
      : name(std::move(name)), loc(loc) {}

  llvm::StringRef str() const { return name; }
  /// The characters of the name, for underlining.
  llvm::SMRange getRange() const {
    if (!loc.isValid())
      return {};
    return {loc, llvm::SMLoc::getFromPointer(loc.getPointer() + name.size())};
  }
};

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// One dimension of a tensor type: a constant (`40`) or a symbol (`n`) that
/// is bound when the model is called.
struct DimAST {
  bool isSymbolic = false;
  int64_t size = 0;   ///< Valid if !isSymbolic.
  std::string symbol; ///< Valid if isSymbolic.
  llvm::SMLoc loc;
};

/// A type as written: `f32` (a scalar, hasShape() false) or `f32[n, 1]`.
/// The element type name is not checked by the parser.
class TypeAST {
public:
  TypeAST() = default;
  TypeAST(std::string elementType, llvm::SMLoc loc)
      : elementType(std::move(elementType)), loc(loc) {}

  llvm::StringRef getElementType() const { return elementType; }
  /// False for `f32`, true for `f32[...]` (the list is never empty).
  bool hasShape() const { return shaped; }
  llvm::ArrayRef<DimAST> getDims() const { return dims; }
  unsigned getRank() const { return dims.size(); }
  llvm::SMLoc getLoc() const { return loc; }
  /// From the element type name to the closing ']' (inclusive).
  llvm::SMRange getRange() const { return {loc, endLoc}; }
  /// The type as the user would write it: "f32[n, 1]".
  std::string str() const;

  void setShape(std::vector<DimAST> newDims) {
    shaped = true;
    dims = std::move(newDims);
  }
  void setEndLoc(llvm::SMLoc end) { endLoc = end; }

private:
  std::string elementType;
  llvm::SMLoc loc;
  llvm::SMLoc endLoc;
  bool shaped = false;
  std::vector<DimAST> dims;
};

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class Expr {
public:
  enum class Kind {
    Number,
    String,
    Name,
    Field,
    Index,
    Call,
    Binary,
    Unary,
    List
  };

  virtual ~Expr();
  Expr(const Expr &) = delete;
  Expr &operator=(const Expr &) = delete;

  Kind getKind() const { return kind; }
  /// Where a diagnostic about this expression should point: the operator of
  /// a binary or unary expression, the field name of `a.b`, the '[' of an
  /// index, the callee of a call, the start of anything else.
  llvm::SMLoc getLoc() const { return loc; }
  /// The whole expression, for underlining.
  llvm::SMRange getRange() const { return range; }
  llvm::SMLoc getStartLoc() const { return range.Start; }
  /// Height of the expression tree (a leaf has height 1). The parser rejects
  /// expressions higher than Parser::kMaxNestingDepth.
  unsigned getHeight() const { return height; }

protected:
  Expr(Kind kind, llvm::SMLoc loc, llvm::SMRange range, unsigned height)
      : kind(kind), loc(loc), range(range), height(height) {}

private:
  const Kind kind;
  llvm::SMLoc loc;
  llvm::SMRange range;
  unsigned height;
};

using ExprPtr = std::unique_ptr<Expr>;

/// `10`, `0.01`, `1e-3`. Integer literals (no '.' and no exponent) also keep
/// their exact value. The spelling is kept for dumps and messages.
class NumberExpr : public Expr {
public:
  NumberExpr(std::string spelling, double value, bool isInteger,
             int64_t intValue, llvm::SMRange range)
      : Expr(Kind::Number, range.Start, range, 1),
        spelling(std::move(spelling)), value(value), integer(isInteger),
        intValue(intValue) {}

  double getValue() const { return value; }
  bool isInteger() const { return integer; }
  /// Only meaningful if isInteger().
  int64_t getIntValue() const { return intValue; }
  llvm::StringRef getSpelling() const { return spelling; }

  static bool classof(const Expr *e) { return e->getKind() == Kind::Number; }

private:
  std::string spelling;
  double value;
  bool integer;
  int64_t intValue;
};

/// `"data/omniglot"`; the value has its escapes decoded.
class StringExpr : public Expr {
public:
  StringExpr(std::string value, llvm::SMRange range)
      : Expr(Kind::String, range.Start, range, 1), value(std::move(value)) {}

  llvm::StringRef getValue() const { return value; }

  static bool classof(const Expr *e) { return e->getKind() == Kind::String; }

private:
  std::string value;
};

/// A bare name: a variable, an argument, a latent, `theta`, `pi`, ...
class NameExpr : public Expr {
public:
  explicit NameExpr(Identifier name)
      : Expr(Kind::Name, name.loc, name.getRange(), 1), name(std::move(name)) {}

  llvm::StringRef getName() const { return name.name; }
  const Identifier &getIdentifier() const { return name; }

  static bool classof(const Expr *e) { return e->getKind() == Kind::Name; }

private:
  Identifier name;
};

/// `base.field`: a record field (`theta.dense1`) or task data (`s.x`).
class FieldExpr : public Expr {
public:
  FieldExpr(ExprPtr base, Identifier field, llvm::SMLoc dotLoc);

  const Expr &getBase() const { return *base; }
  llvm::StringRef getField() const { return field.name; }
  const Identifier &getFieldIdentifier() const { return field; }
  llvm::SMLoc getDotLoc() const { return dotLoc; }

  static bool classof(const Expr *e) { return e->getKind() == Kind::Field; }

private:
  ExprPtr base;
  Identifier field;
  llvm::SMLoc dotLoc;
};

/// `base[i, j]`, e.g. `alpha[k]`.
class IndexExpr : public Expr {
public:
  IndexExpr(ExprPtr base, std::vector<ExprPtr> indices, llvm::SMLoc lSquareLoc,
            llvm::SMLoc endLoc);

  const Expr &getBase() const { return *base; }
  llvm::ArrayRef<ExprPtr> getIndices() const { return indices; }
  llvm::SMLoc getLSquareLoc() const { return getLoc(); }

  static bool classof(const Expr *e) { return e->getKind() == Kind::Index; }

private:
  ExprPtr base;
  std::vector<ExprPtr> indices;
};

/// `name = value` inside a call or an optimizer configuration.
struct KeywordArg {
  Identifier name;
  ExprPtr value;
};

/// `callee(args..., key = value, ...)`. The callee is only a name (a builtin
/// such as `sin` or `grad`, a distribution, or a model such as `Net`);
/// positional arguments always precede keyword arguments.
class CallExpr : public Expr {
public:
  CallExpr(Identifier callee, std::vector<ExprPtr> args,
           std::vector<KeywordArg> kwargs, llvm::SMLoc lParenLoc,
           llvm::SMLoc endLoc);

  llvm::StringRef getCallee() const { return callee.name; }
  const Identifier &getCalleeIdentifier() const { return callee; }
  llvm::ArrayRef<ExprPtr> getArgs() const { return args; }
  llvm::ArrayRef<KeywordArg> getKwargs() const { return kwargs; }
  /// The keyword argument named `name`, or null.
  const KeywordArg *getKwarg(llvm::StringRef name) const;
  llvm::SMLoc getLParenLoc() const { return lParenLoc; }

  static bool classof(const Expr *e) { return e->getKind() == Kind::Call; }

private:
  Identifier callee;
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> kwargs;
  llvm::SMLoc lParenLoc;
};

enum class BinaryOp {
  Add,    // +
  Sub,    // -
  Mul,    // *
  Div,    // /
  MatMul, // @
  Lt,     // <
  Le,     // <=
  Gt,     // >
  Ge,     // >=
  Eq,     // ==
  Ne,     // !=
};

/// "+", "@", "<=", ...
llvm::StringRef getBinaryOpSpelling(BinaryOp op);
/// True for < <= > >= == != (their result is a boolean tensor).
bool isComparison(BinaryOp op);

class BinaryExpr : public Expr {
public:
  BinaryExpr(BinaryOp op, ExprPtr lhs, ExprPtr rhs, llvm::SMLoc opLoc);

  BinaryOp getOp() const { return op; }
  const Expr &getLHS() const { return *lhs; }
  const Expr &getRHS() const { return *rhs; }
  llvm::SMLoc getOpLoc() const { return getLoc(); }

  static bool classof(const Expr *e) { return e->getKind() == Kind::Binary; }

private:
  BinaryOp op;
  ExprPtr lhs, rhs;
};

enum class UnaryOp { Neg };

class UnaryExpr : public Expr {
public:
  UnaryExpr(UnaryOp op, ExprPtr operand, llvm::SMLoc opLoc);

  UnaryOp getOp() const { return op; }
  const Expr &getOperand() const { return *operand; }

  static bool classof(const Expr *e) { return e->getKind() == Kind::Unary; }

private:
  UnaryOp op;
  ExprPtr operand;
};

/// `[n, 1]`, `[0, 1, 5]`: shapes, permutations and constant vectors.
class ListExpr : public Expr {
public:
  ListExpr(std::vector<ExprPtr> elements, llvm::SMLoc lSquareLoc,
           llvm::SMLoc endLoc);

  llvm::ArrayRef<ExprPtr> getElements() const { return elements; }

  static bool classof(const Expr *e) { return e->getKind() == Kind::List; }

private:
  std::vector<ExprPtr> elements;
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

class Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

/// `{ stmt* }`: the body of a model, a sample generator, an adapt or
/// objective item, or a repeat loop.
struct Block {
  llvm::SMLoc lBraceLoc;
  llvm::SMLoc rBraceLoc;
  std::vector<StmtPtr> stmts;

  bool empty() const { return stmts.empty(); }
  size_t size() const { return stmts.size(); }
  std::vector<StmtPtr>::const_iterator begin() const { return stmts.begin(); }
  std::vector<StmtPtr>::const_iterator end() const { return stmts.end(); }
  /// The last statement (a model's or an objective's result), or null.
  const Stmt *back() const {
    return stmts.empty() ? nullptr : stmts.back().get();
  }
};

class Stmt {
public:
  enum class Kind { Assign, Draw, Repeat, Param, Expr };

  virtual ~Stmt();
  Stmt(const Stmt &) = delete;
  Stmt &operator=(const Stmt &) = delete;

  Kind getKind() const { return kind; }
  /// The first token of the statement.
  llvm::SMLoc getLoc() const { return loc; }

protected:
  Stmt(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}

private:
  const Kind kind;
  llvm::SMLoc loc;
};

/// `h = relu(x)`, `theta = theta - ...`, `theta.dense3 = ...`: assigns a
/// name, or (with a longer path) one field of a record.
class AssignStmt : public Stmt {
public:
  AssignStmt(std::vector<Identifier> path, ExprPtr value, llvm::SMLoc equalLoc)
      : Stmt(Kind::Assign, path.front().loc), path(std::move(path)),
        value(std::move(value)), equalLoc(equalLoc) {}

  /// The components of `theta.dense3`: {theta, dense3}. Never empty.
  llvm::ArrayRef<Identifier> getPath() const { return path; }
  /// The assigned variable: the first path component.
  llvm::StringRef getName() const { return path.front().name; }
  bool isFieldAssignment() const { return path.size() > 1; }
  /// "theta.dense3".
  std::string getPathString() const;
  /// From the first to the last path component, for underlining.
  llvm::SMRange getPathRange() const {
    return {path.front().loc, path.back().getRange().End};
  }
  const Expr &getValue() const { return *value; }
  llvm::SMLoc getEqualLoc() const { return equalLoc; }

  static bool classof(const Stmt *s) { return s->getKind() == Kind::Assign; }

private:
  std::vector<Identifier> path;
  ExprPtr value;
  llvm::SMLoc equalLoc;
};

/// `x ~ uniform(-5.0, 5.0, [n, 1])`: a random draw (a latent of a task
/// distribution, or a draw inside a block).
class DrawStmt : public Stmt {
public:
  DrawStmt(Identifier name, std::unique_ptr<CallExpr> distribution,
           llvm::SMLoc tildeLoc)
      : Stmt(Kind::Draw, name.loc), name(std::move(name)),
        distribution(std::move(distribution)), tildeLoc(tildeLoc) {}

  llvm::StringRef getName() const { return name.name; }
  const Identifier &getIdentifier() const { return name; }
  /// The distribution call; its callee names the distribution.
  const CallExpr &getDistribution() const { return *distribution; }
  llvm::SMLoc getTildeLoc() const { return tildeLoc; }

  static bool classof(const Stmt *s) { return s->getKind() == Kind::Draw; }

private:
  Identifier name;
  std::unique_ptr<CallExpr> distribution;
  llvm::SMLoc tildeLoc;
};

/// `repeat 5 as k { ... }`: a loop unrolled at compile time.
class RepeatStmt : public Stmt {
public:
  RepeatStmt(llvm::SMLoc loc, int64_t count, llvm::SMLoc countLoc,
             std::optional<Identifier> indexName, Block body)
      : Stmt(Kind::Repeat, loc), count(count), countLoc(countLoc),
        indexName(std::move(indexName)), body(std::move(body)) {}

  int64_t getCount() const { return count; }
  llvm::SMLoc getCountLoc() const { return countLoc; }
  /// The step index name of `as k`, if present.
  const std::optional<Identifier> &getIndexName() const { return indexName; }
  const Block &getBody() const { return body; }

  static bool classof(const Stmt *s) { return s->getKind() == Kind::Repeat; }

private:
  int64_t count;
  llvm::SMLoc countLoc;
  std::optional<Identifier> indexName;
  Block body;
};

/// `param w: f32[1, 40] ~ normal(0.0, 0.01)`: an explicit model parameter.
class ParamStmt : public Stmt {
public:
  /// None: `param w: f32`; Value: `= expr`; Draw: `~ distribution(...)`.
  enum class InitKind { None, Value, Draw };

  ParamStmt(llvm::SMLoc loc, Identifier name, TypeAST type, InitKind initKind,
            ExprPtr init, llvm::SMLoc initLoc)
      : Stmt(Kind::Param, loc), name(std::move(name)), type(std::move(type)),
        initKind(initKind), init(std::move(init)), initLoc(initLoc) {}

  llvm::StringRef getName() const { return name.name; }
  const Identifier &getIdentifier() const { return name; }
  const TypeAST &getType() const { return type; }
  InitKind getInitKind() const { return initKind; }
  /// The initialiser, or null for InitKind::None.
  const Expr *getInit() const { return init.get(); }
  /// The '=' or '~' token.
  llvm::SMLoc getInitLoc() const { return initLoc; }

  static bool classof(const Stmt *s) { return s->getKind() == Kind::Param; }

private:
  Identifier name;
  TypeAST type;
  InitKind initKind;
  ExprPtr init;
  llvm::SMLoc initLoc;
};

/// An expression on its own; the last one of a model or an objective body
/// is its result.
class ExprStmt : public Stmt {
public:
  explicit ExprStmt(ExprPtr expr)
      : Stmt(Kind::Expr, expr->getStartLoc()), expr(std::move(expr)) {}

  const Expr &getExpr() const { return *expr; }

  static bool classof(const Stmt *s) { return s->getKind() == Kind::Expr; }

private:
  ExprPtr expr;
};

//===----------------------------------------------------------------------===//
// Learner items
//===----------------------------------------------------------------------===//

class LearnerItem {
public:
  enum class Kind {
    Tasks,
    Model,
    Setting,
    Meta,
    Adapt,
    Objective,
    Metric,
    Optimizer,
    Evaluate
  };

  virtual ~LearnerItem();
  LearnerItem(const LearnerItem &) = delete;
  LearnerItem &operator=(const LearnerItem &) = delete;

  Kind getKind() const { return kind; }
  /// The first token of the item.
  llvm::SMLoc getLoc() const { return loc; }

protected:
  LearnerItem(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}

private:
  const Kind kind;
  llvm::SMLoc loc;
};

using LearnerItemPtr = std::unique_ptr<LearnerItem>;

/// `tasks Sine`: the task distribution to meta-train on.
class TasksItem : public LearnerItem {
public:
  TasksItem(llvm::SMLoc loc, Identifier name)
      : LearnerItem(Kind::Tasks, loc), name(std::move(name)) {}
  llvm::StringRef getName() const { return name.name; }
  const Identifier &getIdentifier() const { return name; }
  static bool classof(const LearnerItem *i) {
    return i->getKind() == Kind::Tasks;
  }

private:
  Identifier name;
};

/// `model Net`: the model whose parameters are meta-learned.
class ModelItem : public LearnerItem {
public:
  ModelItem(llvm::SMLoc loc, Identifier name)
      : LearnerItem(Kind::Model, loc), name(std::move(name)) {}
  llvm::StringRef getName() const { return name.name; }
  const Identifier &getIdentifier() const { return name; }
  static bool classof(const LearnerItem *i) {
    return i->getKind() == Kind::Model;
  }

private:
  Identifier name;
};

/// `support 10`, `meta_batch 25`, `train 70000`: any key with an integer.
/// The parser rejects a key given twice; MLIRGen validates the keys.
class SettingItem : public LearnerItem {
public:
  SettingItem(Identifier key, int64_t value, llvm::SMLoc valueLoc)
      : LearnerItem(Kind::Setting, key.loc), key(std::move(key)), value(value),
        real(static_cast<double>(value)), integer(true), valueLoc(valueLoc) {}
  /// A real-valued setting such as `discount 0.99`.
  SettingItem(Identifier key, double real, llvm::SMLoc valueLoc)
      : LearnerItem(Kind::Setting, key.loc), key(std::move(key)), value(0),
        real(real), integer(false), valueLoc(valueLoc) {}
  llvm::StringRef getKey() const { return key.name; }
  const Identifier &getKeyIdentifier() const { return key; }
  /// The value of an integer setting (0 for a real one).
  int64_t getValue() const { return value; }
  /// The value as a real, for settings that take one.
  double getReal() const { return real; }
  /// Whether the value was written as an integer literal.
  bool isInteger() const { return integer; }
  llvm::SMLoc getValueLoc() const { return valueLoc; }
  static bool classof(const LearnerItem *i) {
    return i->getKind() == Kind::Setting;
  }

private:
  Identifier key;
  int64_t value;
  double real;
  bool integer;
  llvm::SMLoc valueLoc;
};

/// `meta alpha: like theta = 0.01` or `meta lr: f32[5] = 0.01`: a
/// meta-learned quantity other than the model parameters.
class MetaItem : public LearnerItem {
public:
  /// `meta NAME: like OTHER`.
  MetaItem(llvm::SMLoc loc, Identifier name, Identifier likeName, ExprPtr init)
      : LearnerItem(Kind::Meta, loc), name(std::move(name)),
        likeName(std::move(likeName)), init(std::move(init)) {}
  /// `meta NAME: TYPE`.
  MetaItem(llvm::SMLoc loc, Identifier name, TypeAST type, ExprPtr init)
      : LearnerItem(Kind::Meta, loc), name(std::move(name)),
        type(std::move(type)), init(std::move(init)) {}

  llvm::StringRef getName() const { return name.name; }
  const Identifier &getIdentifier() const { return name; }
  /// True for the `like OTHER` form.
  bool isLike() const { return !type.has_value(); }
  /// The record it mirrors (`theta`); only valid if isLike().
  const Identifier &getLikeName() const { return likeName; }
  /// The declared type; only valid if !isLike().
  const TypeAST &getType() const { return *type; }
  /// The initial value, or null.
  const Expr *getInit() const { return init.get(); }
  static bool classof(const LearnerItem *i) {
    return i->getKind() == Kind::Meta;
  }

private:
  Identifier name;
  Identifier likeName;
  std::optional<TypeAST> type;
  ExprPtr init;
};

/// `adapt(theta, s) { ... }`: the inner loop. `theta` names the parameters
/// (its final value in the block is the adapted parameters), `s` the
/// support set.
class AdaptItem : public LearnerItem {
public:
  AdaptItem(llvm::SMLoc loc, Identifier paramsName, Identifier dataName,
            Block body)
      : LearnerItem(Kind::Adapt, loc), paramsName(std::move(paramsName)),
        dataName(std::move(dataName)), body(std::move(body)) {}
  const Identifier &getParamsName() const { return paramsName; }
  const Identifier &getDataName() const { return dataName; }
  const Block &getBody() const { return body; }
  static bool classof(const LearnerItem *i) {
    return i->getKind() == Kind::Adapt;
  }

private:
  Identifier paramsName, dataName;
  Block body;
};

/// `objective(theta, q) = expr` or `objective(theta, q) { ... }`. The `=`
/// form is stored as a body holding one ExprStmt, so both read the same.
class ObjectiveItem : public LearnerItem {
public:
  ObjectiveItem(llvm::SMLoc loc, Identifier paramsName, Identifier dataName,
                Block body, bool exprForm)
      : ObjectiveItem(Kind::Objective, loc, std::move(paramsName),
                      std::move(dataName), std::move(body), exprForm) {}
  const Identifier &getParamsName() const { return paramsName; }
  const Identifier &getDataName() const { return dataName; }
  /// `objective(theta, q, theta0, s)`: the names of the parameters before
  /// adaptation and of the support set, or empty identifiers when the item
  /// has two arguments.
  const Identifier &getInitialName() const { return initialName; }
  const Identifier &getSupportName() const { return supportName; }
  bool hasSupportArguments() const { return !supportName.name.empty(); }
  void setSupportArguments(Identifier initial, Identifier support) {
    initialName = std::move(initial);
    supportName = std::move(support);
  }
  const Block &getBody() const { return body; }
  /// True if written `objective(...) = expr`.
  bool isExpressionForm() const { return exprForm; }
  static bool classof(const LearnerItem *i) {
    return i->getKind() == Kind::Objective;
  }

protected:
  ObjectiveItem(Kind kind, llvm::SMLoc loc, Identifier paramsName,
                Identifier dataName, Block body, bool exprForm)
      : LearnerItem(kind, loc), paramsName(std::move(paramsName)),
        dataName(std::move(dataName)), body(std::move(body)),
        exprForm(exprForm) {}

private:
  Identifier paramsName, dataName, initialName, supportName;
  Block body;
  bool exprForm;
};

/// `metric accuracy(theta, q) = accuracy(Net(theta, q.x), q.y)`: a scalar
/// that evaluation reports next to the loss, computed like the objective
/// (on the query set, after each evaluated number of steps). Not an
/// ObjectiveItem for dyn_cast, so a learner's objective stays unique.
class MetricItem : public ObjectiveItem {
public:
  MetricItem(llvm::SMLoc loc, Identifier name, Identifier paramsName,
             Identifier dataName, Block body, bool exprForm)
      : ObjectiveItem(Kind::Metric, loc, std::move(paramsName),
                      std::move(dataName), std::move(body), exprForm),
        name(std::move(name)) {}
  llvm::StringRef getName() const { return name.name; }
  const Identifier &getIdentifier() const { return name; }
  static bool classof(const LearnerItem *i) {
    return i->getKind() == Kind::Metric;
  }

private:
  Identifier name;
};

/// `optimizer adam(lr = 0.001, beta1 = 0.9)`: KEY KIND(kwargs). The key is
/// usually `optimizer`; the kind names the algorithm.
class OptimizerItem : public LearnerItem {
public:
  OptimizerItem(Identifier key, Identifier kind, std::vector<KeywordArg> kwargs)
      : LearnerItem(Kind::Optimizer, key.loc), key(std::move(key)),
        kind(std::move(kind)), kwargs(std::move(kwargs)) {}
  llvm::StringRef getKey() const { return key.name; }
  const Identifier &getKeyIdentifier() const { return key; }
  /// `adam`, `sgd`, ...
  llvm::StringRef getOptimizerKind() const { return kind.name; }
  const Identifier &getKindIdentifier() const { return kind; }
  llvm::ArrayRef<KeywordArg> getKwargs() const { return kwargs; }
  const KeywordArg *getKwarg(llvm::StringRef name) const;
  static bool classof(const LearnerItem *i) {
    return i->getKind() == Kind::Optimizer;
  }

private:
  Identifier key, kind;
  std::vector<KeywordArg> kwargs;
};

/// One `key value` of an evaluate item: `tasks 600` or `steps [0, 1, 5]`.
struct EvalPair {
  Identifier key;
  bool isList = false;         ///< Written as `[...]` (even with one value).
  std::vector<int64_t> values; ///< One value unless isList.
  std::vector<llvm::SMLoc> valueLocs;
};

/// `evaluate tasks 600, steps [0, 1, 5, 10], shots [5, 10], query 10`.
class EvaluateItem : public LearnerItem {
public:
  EvaluateItem(llvm::SMLoc loc, std::vector<EvalPair> pairs)
      : LearnerItem(Kind::Evaluate, loc), pairs(std::move(pairs)) {}
  llvm::ArrayRef<EvalPair> getPairs() const { return pairs; }
  /// The pair with key `key`, or null.
  const EvalPair *lookup(llvm::StringRef key) const;
  static bool classof(const LearnerItem *i) {
    return i->getKind() == Kind::Evaluate;
  }

private:
  std::vector<EvalPair> pairs;
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

class Decl {
public:
  enum class Kind { Tasks, Model, Learner };

  virtual ~Decl();
  Decl(const Decl &) = delete;
  Decl &operator=(const Decl &) = delete;

  Kind getKind() const { return kind; }
  /// The declaration keyword.
  llvm::SMLoc getLoc() const { return loc; }
  llvm::StringRef getName() const { return name.name; }
  const Identifier &getIdentifier() const { return name; }

protected:
  Decl(Kind kind, llvm::SMLoc loc, Identifier name)
      : kind(kind), loc(loc), name(std::move(name)) {}

private:
  const Kind kind;
  llvm::SMLoc loc;
  Identifier name;
};

using DeclPtr = std::unique_ptr<Decl>;

/// `tasks Sine { amp ~ uniform(0.1, 5.0) ... sample(n) { ... } }`.
class TasksDecl : public Decl {
public:
  TasksDecl(llvm::SMLoc loc, Identifier name)
      : Decl(Kind::Tasks, loc, std::move(name)) {}

  /// Per-task latent variables in source order: DrawStmt (`amp ~ ...`) or
  /// AssignStmt with a one-component path (`freq = 2.0 * amp`).
  llvm::ArrayRef<StmtPtr> getLatents() const { return latents; }
  /// False if the declaration has no `sample(n)` block (MLIRGen reports it).
  bool hasSample() const { return sampleLoc.isValid(); }
  /// The `sample` keyword.
  llvm::SMLoc getSampleLoc() const { return sampleLoc; }
  /// The size variable `n` of `sample(n)`.
  const Identifier &getSampleSize() const { return sampleSize; }
  const Block &getSampleBody() const { return sampleBody; }

  void addLatent(StmtPtr stmt) { latents.push_back(std::move(stmt)); }
  void setSample(llvm::SMLoc loc, Identifier size, Block body) {
    sampleLoc = loc;
    sampleSize = std::move(size);
    sampleBody = std::move(body);
  }

  /// An environment (reinforcement learning): a task is an MDP whose
  /// latents are drawn per task, `reset(n) { obs = ... }` starts n episodes
  /// and `step(obs, action) { obs = ...; reward = ...; done = ... }` advances
  /// them, for at most `horizon` steps.
  bool isEnvironment() const {
    return resetLoc.isValid() || stepLoc.isValid() || horizonLoc.isValid() ||
           simulator;
  }
  /// `simulator mujoco("runner.xml", frame_skip = 5)`: the runtime's physics
  /// simulator advances the state and starts episodes; `step(obs, action,
  /// sim)` then only computes the reward (and `done`) from the sensor
  /// readings `sim` after the step. Null for environments written out.
  const CallExpr *getSimulator() const { return simulator.get(); }
  llvm::SMLoc getSimulatorLoc() const { return simulatorLoc; }
  void setSimulator(llvm::SMLoc loc, std::unique_ptr<CallExpr> call) {
    simulatorLoc = loc;
    simulator = std::move(call);
  }
  /// The name of step's third argument, the simulator's readings (empty
  /// when step has two).
  const Identifier &getStepSensors() const { return stepSensors; }
  llvm::SMLoc getResetLoc() const { return resetLoc; }
  const Identifier &getResetSize() const { return resetSize; }
  const Block &getResetBody() const { return resetBody; }
  llvm::SMLoc getStepLoc() const { return stepLoc; }
  /// The names of step's state and action arguments.
  const Identifier &getStepState() const { return stepState; }
  const Identifier &getStepAction() const { return stepAction; }
  const Block &getStepBody() const { return stepBody; }
  llvm::SMLoc getHorizonLoc() const { return horizonLoc; }
  int64_t getHorizon() const { return horizon; }
  void setReset(llvm::SMLoc loc, Identifier size, Block body) {
    resetLoc = loc;
    resetSize = std::move(size);
    resetBody = std::move(body);
  }
  void setStep(llvm::SMLoc loc, Identifier state, Identifier action,
               Identifier sensors, Block body) {
    stepLoc = loc;
    stepState = std::move(state);
    stepAction = std::move(action);
    stepSensors = std::move(sensors);
    stepBody = std::move(body);
  }
  void setHorizon(llvm::SMLoc loc, int64_t steps) {
    horizonLoc = loc;
    horizon = steps;
  }

  /// The built-in source of `tasks Chars = glyphs(way = 5)`, or null for a
  /// distribution written out with latents and sample(n).
  const CallExpr *getSource() const { return source.get(); }
  void setSource(std::unique_ptr<CallExpr> call) { source = std::move(call); }

  static bool classof(const Decl *d) { return d->getKind() == Kind::Tasks; }

private:
  std::unique_ptr<CallExpr> source;
  std::vector<StmtPtr> latents;
  llvm::SMLoc sampleLoc;
  Identifier sampleSize;
  Block sampleBody;
  std::unique_ptr<CallExpr> simulator;
  llvm::SMLoc resetLoc, stepLoc, horizonLoc, simulatorLoc;
  Identifier resetSize, stepState, stepAction, stepSensors;
  Block resetBody, stepBody;
  int64_t horizon = 0;
};

/// `x: f32[n, 1]` in a model's argument list.
struct TypedArg {
  Identifier name;
  TypeAST type;
};

/// `model Net(x: f32[n, 1]) -> f32[n, 1] { ... }`.
class ModelDecl : public Decl {
public:
  ModelDecl(llvm::SMLoc loc, Identifier name, std::vector<TypedArg> args,
            std::optional<TypeAST> resultType, Block body)
      : Decl(Kind::Model, loc, std::move(name)), args(std::move(args)),
        resultType(std::move(resultType)), body(std::move(body)) {}

  llvm::ArrayRef<TypedArg> getArgs() const { return args; }
  /// The declared result type (`-> f32[n, 1]`), if any.
  const std::optional<TypeAST> &getResultType() const { return resultType; }
  const Block &getBody() const { return body; }

  static bool classof(const Decl *d) { return d->getKind() == Kind::Model; }

private:
  std::vector<TypedArg> args;
  std::optional<TypeAST> resultType;
  Block body;
};

/// `learner maml { ... }`: items in source order.
class LearnerDecl : public Decl {
public:
  LearnerDecl(llvm::SMLoc loc, Identifier name)
      : Decl(Kind::Learner, loc, std::move(name)) {}

  llvm::ArrayRef<LearnerItemPtr> getItems() const { return items; }
  /// The items of one kind, in order: `getItemsOf<AdaptItem>()`.
  template <typename T> llvm::SmallVector<const T *, 2> getItemsOf() const {
    llvm::SmallVector<const T *, 2> result;
    for (const LearnerItemPtr &item : items)
      if (const auto *t = llvm::dyn_cast<T>(item.get()))
        result.push_back(t);
    return result;
  }
  /// The first item of one kind, or null.
  template <typename T> const T *getFirstItemOf() const {
    for (const LearnerItemPtr &item : items)
      if (const auto *t = llvm::dyn_cast<T>(item.get()))
        return t;
    return nullptr;
  }
  /// The setting `key` (`support`, `train`, ...), or null.
  const SettingItem *getSetting(llvm::StringRef key) const;

  void addItem(LearnerItemPtr item) { items.push_back(std::move(item)); }

  static bool classof(const Decl *d) { return d->getKind() == Kind::Learner; }

private:
  std::vector<LearnerItemPtr> items;
};

/// A whole source file: its declarations in order.
class Program {
public:
  explicit Program(const llvm::SourceMgr *srcMgr = nullptr) : srcMgr(srcMgr) {}

  llvm::ArrayRef<DeclPtr> getDecls() const { return decls; }
  std::vector<DeclPtr>::const_iterator begin() const { return decls.begin(); }
  std::vector<DeclPtr>::const_iterator end() const { return decls.end(); }
  bool empty() const { return decls.empty(); }

  /// The declarations of one kind, in order: `getDeclsOf<ModelDecl>()`.
  template <typename T> llvm::SmallVector<const T *, 4> getDeclsOf() const {
    llvm::SmallVector<const T *, 4> result;
    for (const DeclPtr &decl : decls)
      if (const auto *t = llvm::dyn_cast<T>(decl.get()))
        result.push_back(t);
    return result;
  }
  /// The first declaration named `name` (of any kind), or null.
  const Decl *lookup(llvm::StringRef name) const;

  /// The SourceMgr that holds the text the locations point into (used by
  /// the AST dump to print line:column).
  const llvm::SourceMgr *getSourceMgr() const { return srcMgr; }

  void addDecl(DeclPtr decl) { decls.push_back(std::move(decl)); }

private:
  const llvm::SourceMgr *srcMgr;
  std::vector<DeclPtr> decls;
};

} // namespace metac

#endif // METAC_FRONTEND_AST_H
