//===- ASTDump.cpp - textual dump of the metac AST ------------------------===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//
//
// One line per node: a label, what distinguishes the node, then `@line:col`.
// Children are indented two spaces further. Lists of integers and types are
// printed the way they are written in the source, so a dump reads like a
// bracketed version of the program.
//
//===----------------------------------------------------------------------===//

#include "metac/Frontend/ASTDump.h"

#include "metac/Frontend/AST.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace metac;
using llvm::SMLoc;

namespace {

class ASTDumper {
public:
  ASTDumper(const llvm::SourceMgr *srcMgr, llvm::raw_ostream &os)
      : srcMgr(srcMgr), os(os) {}

  void dump(const Program &program);

private:
  /// Starts a line at the current indentation.
  llvm::raw_ostream &line() { return os.indent(indent); }
  /// Ends a line with the location, if it can be resolved.
  void endLine(SMLoc loc);

  void dump(const Decl &decl);
  void dump(const TasksDecl &decl);
  void dump(const ModelDecl &decl);
  void dump(const LearnerDecl &decl);
  void dump(const LearnerItem &item);
  void dump(const Block &block);
  void dump(const Stmt &stmt);
  void dump(const Expr &expr);
  void dumpKwargs(llvm::ArrayRef<KeywordArg> kwargs);

  /// Indents the children printed while it lives.
  struct Nest {
    explicit Nest(ASTDumper &d) : d(d) { d.indent += 2; }
    ~Nest() { d.indent -= 2; }
    ASTDumper &d;
  };

  const llvm::SourceMgr *srcMgr;
  llvm::raw_ostream &os;
  unsigned indent = 0;
};

} // namespace

void ASTDumper::endLine(SMLoc loc) {
  if (srcMgr && loc.isValid() && srcMgr->FindBufferContainingLoc(loc)) {
    auto [lineNo, col] = srcMgr->getLineAndColumn(loc);
    os << " @" << lineNo << ':' << col;
  }
  os << '\n';
}

void ASTDumper::dump(const Program &program) {
  line() << "Program";
  os << '\n';
  Nest nest(*this);
  for (const DeclPtr &decl : program.getDecls())
    dump(*decl);
}

void ASTDumper::dump(const Decl &decl) {
  switch (decl.getKind()) {
  case Decl::Kind::Tasks:
    return dump(llvm::cast<TasksDecl>(decl));
  case Decl::Kind::Model:
    return dump(llvm::cast<ModelDecl>(decl));
  case Decl::Kind::Learner:
    return dump(llvm::cast<LearnerDecl>(decl));
  }
}

void ASTDumper::dump(const TasksDecl &decl) {
  line() << "Tasks " << decl.getName();
  endLine(decl.getLoc());
  Nest nest(*this);
  if (const CallExpr *source = decl.getSource()) {
    line() << "Source";
    endLine(source->getStartLoc());
    Nest inner(*this);
    dump(*source);
  }
  for (const StmtPtr &latent : decl.getLatents())
    dump(*latent);
  if (const CallExpr *sim = decl.getSimulator()) {
    line() << "Simulator";
    endLine(decl.getSimulatorLoc());
    Nest inner(*this);
    dump(*sim);
  }
  if (decl.hasSample()) {
    line() << "Sample(" << decl.getSampleSize().name << ")";
    endLine(decl.getSampleLoc());
    dump(decl.getSampleBody());
  }
  if (decl.getResetLoc().isValid()) {
    line() << "Reset(" << decl.getResetSize().name << ")";
    endLine(decl.getResetLoc());
    dump(decl.getResetBody());
  }
  if (decl.getStepLoc().isValid()) {
    line() << "Step(" << decl.getStepState().name << ", "
           << decl.getStepAction().name;
    if (!decl.getStepSensors().name.empty())
      os << ", " << decl.getStepSensors().name;
    os << ")";
    endLine(decl.getStepLoc());
    dump(decl.getStepBody());
  }
  if (decl.getHorizonLoc().isValid()) {
    line() << "Horizon " << decl.getHorizon();
    endLine(decl.getHorizonLoc());
  }
}

void ASTDumper::dump(const ModelDecl &decl) {
  line() << "Model " << decl.getName();
  endLine(decl.getLoc());
  Nest nest(*this);
  for (const TypedArg &arg : decl.getArgs()) {
    line() << "Arg " << arg.name.name << " : " << arg.type.str();
    endLine(arg.name.loc);
  }
  if (const auto &result = decl.getResultType()) {
    line() << "Result " << result->str();
    endLine(result->getLoc());
  }
  for (const StmtPtr &stmt : decl.getBody())
    dump(*stmt);
}

void ASTDumper::dump(const LearnerDecl &decl) {
  line() << "Learner " << decl.getName();
  endLine(decl.getLoc());
  Nest nest(*this);
  for (const LearnerItemPtr &item : decl.getItems())
    dump(*item);
}

/// "[0, 1, 5]" or "600".
static void printEvalValues(llvm::raw_ostream &os, const EvalPair &pair) {
  if (!pair.isList) {
    if (!pair.values.empty())
      os << pair.values.front();
    return;
  }
  os << '[';
  llvm::interleaveComma(pair.values, os);
  os << ']';
}

void ASTDumper::dump(const LearnerItem &item) {
  switch (item.getKind()) {
  case LearnerItem::Kind::Tasks:
    line() << "Tasks " << llvm::cast<TasksItem>(item).getName();
    return endLine(item.getLoc());
  case LearnerItem::Kind::Model:
    line() << "Model " << llvm::cast<ModelItem>(item).getName();
    return endLine(item.getLoc());
  case LearnerItem::Kind::Setting: {
    const auto &setting = llvm::cast<SettingItem>(item);
    line() << "Setting " << setting.getKey() << ' ';
    if (setting.isInteger())
      os << setting.getValue();
    else
      os << llvm::format("%g", setting.getReal());
    return endLine(item.getLoc());
  }
  case LearnerItem::Kind::Meta: {
    const auto &meta = llvm::cast<MetaItem>(item);
    line() << "Meta " << meta.getName() << " : ";
    if (meta.isLike())
      os << "like " << meta.getLikeName().name;
    else
      os << meta.getType().str();
    endLine(item.getLoc());
    Nest nest(*this);
    if (const Expr *init = meta.getInit())
      dump(*init);
    return;
  }
  case LearnerItem::Kind::Adapt: {
    const auto &adapt = llvm::cast<AdaptItem>(item);
    line() << "Adapt(" << adapt.getParamsName().name << ", "
           << adapt.getDataName().name << ")";
    endLine(item.getLoc());
    return dump(adapt.getBody());
  }
  case LearnerItem::Kind::Objective: {
    const auto &objective = llvm::cast<ObjectiveItem>(item);
    line() << "Objective(" << objective.getParamsName().name << ", "
           << objective.getDataName().name;
    if (objective.hasSupportArguments())
      os << ", " << objective.getInitialName().name << ", "
         << objective.getSupportName().name;
    os << ")" << (objective.isExpressionForm() ? " =" : "");
    endLine(item.getLoc());
    return dump(objective.getBody());
  }
  case LearnerItem::Kind::Metric: {
    const auto &metric = llvm::cast<MetricItem>(item);
    line() << "Metric " << metric.getName() << "("
           << metric.getParamsName().name << ", " << metric.getDataName().name;
    if (metric.hasSupportArguments())
      os << ", " << metric.getInitialName().name << ", "
         << metric.getSupportName().name;
    os << ")" << (metric.isExpressionForm() ? " =" : "");
    endLine(item.getLoc());
    return dump(metric.getBody());
  }
  case LearnerItem::Kind::Optimizer: {
    const auto &optimizer = llvm::cast<OptimizerItem>(item);
    line() << "Optimizer " << optimizer.getKey() << " = "
           << optimizer.getOptimizerKind();
    endLine(item.getLoc());
    Nest nest(*this);
    return dumpKwargs(optimizer.getKwargs());
  }
  case LearnerItem::Kind::Evaluate: {
    const auto &evaluate = llvm::cast<EvaluateItem>(item);
    line() << "Evaluate";
    endLine(item.getLoc());
    Nest nest(*this);
    for (const EvalPair &pair : evaluate.getPairs()) {
      line() << pair.key.name << ' ';
      printEvalValues(os, pair);
      endLine(pair.key.loc);
    }
    return;
  }
  }
}

void ASTDumper::dump(const Block &block) {
  Nest nest(*this);
  for (const StmtPtr &stmt : block)
    dump(*stmt);
}

void ASTDumper::dump(const Stmt &stmt) {
  switch (stmt.getKind()) {
  case Stmt::Kind::Assign: {
    const auto &assign = llvm::cast<AssignStmt>(stmt);
    line() << "Assign " << assign.getPathString();
    endLine(stmt.getLoc());
    Nest nest(*this);
    return dump(assign.getValue());
  }
  case Stmt::Kind::Draw: {
    const auto &draw = llvm::cast<DrawStmt>(stmt);
    line() << "Draw " << draw.getName();
    endLine(stmt.getLoc());
    Nest nest(*this);
    return dump(draw.getDistribution());
  }
  case Stmt::Kind::Repeat: {
    const auto &repeat = llvm::cast<RepeatStmt>(stmt);
    line() << "Repeat " << repeat.getCount();
    if (const auto &index = repeat.getIndexName())
      os << " as " << index->name;
    endLine(stmt.getLoc());
    return dump(repeat.getBody());
  }
  case Stmt::Kind::Param: {
    const auto &param = llvm::cast<ParamStmt>(stmt);
    line() << "Param " << param.getName() << " : " << param.getType().str();
    switch (param.getInitKind()) {
    case ParamStmt::InitKind::None:
      break;
    case ParamStmt::InitKind::Value:
      os << " =";
      break;
    case ParamStmt::InitKind::Draw:
      os << " ~";
      break;
    }
    endLine(stmt.getLoc());
    Nest nest(*this);
    if (const Expr *init = param.getInit())
      dump(*init);
    return;
  }
  case Stmt::Kind::Expr: {
    line() << "ExprStmt";
    endLine(stmt.getLoc());
    Nest nest(*this);
    return dump(llvm::cast<ExprStmt>(stmt).getExpr());
  }
  }
}

void ASTDumper::dumpKwargs(llvm::ArrayRef<KeywordArg> kwargs) {
  for (const KeywordArg &kwarg : kwargs) {
    line() << "Kwarg " << kwarg.name.name;
    endLine(kwarg.name.loc);
    Nest nest(*this);
    dump(*kwarg.value);
  }
}

/// Prints a string the way it would be written in the source.
static void printStringLiteral(llvm::raw_ostream &os, llvm::StringRef value) {
  os << '"';
  for (char c : value) {
    switch (c) {
    case '"':
      os << "\\\"";
      break;
    case '\\':
      os << "\\\\";
      break;
    case '\n':
      os << "\\n";
      break;
    case '\t':
      os << "\\t";
      break;
    default:
      if (llvm::isPrint(c))
        os << c;
      else
        os << "\\x" << llvm::hexdigit((c >> 4) & 0xF)
           << llvm::hexdigit(c & 0xF);
    }
  }
  os << '"';
}

void ASTDumper::dump(const Expr &expr) {
  switch (expr.getKind()) {
  case Expr::Kind::Number:
    line() << "Number " << llvm::cast<NumberExpr>(expr).getSpelling();
    return endLine(expr.getLoc());
  case Expr::Kind::String:
    line() << "String ";
    printStringLiteral(os, llvm::cast<StringExpr>(expr).getValue());
    return endLine(expr.getLoc());
  case Expr::Kind::Name:
    line() << "Name " << llvm::cast<NameExpr>(expr).getName();
    return endLine(expr.getLoc());
  case Expr::Kind::Field: {
    const auto &field = llvm::cast<FieldExpr>(expr);
    line() << "Field " << field.getField();
    endLine(expr.getLoc());
    Nest nest(*this);
    return dump(field.getBase());
  }
  case Expr::Kind::Index: {
    // The first child is the indexed value, the others the indices.
    const auto &index = llvm::cast<IndexExpr>(expr);
    line() << "Index";
    endLine(expr.getLoc());
    Nest nest(*this);
    dump(index.getBase());
    for (const ExprPtr &i : index.getIndices())
      dump(*i);
    return;
  }
  case Expr::Kind::Call: {
    const auto &call = llvm::cast<CallExpr>(expr);
    line() << "Call " << call.getCallee();
    endLine(expr.getLoc());
    Nest nest(*this);
    for (const ExprPtr &arg : call.getArgs())
      dump(*arg);
    return dumpKwargs(call.getKwargs());
  }
  case Expr::Kind::Binary: {
    const auto &binary = llvm::cast<BinaryExpr>(expr);
    line() << "Binary " << getBinaryOpSpelling(binary.getOp());
    endLine(expr.getLoc());
    Nest nest(*this);
    dump(binary.getLHS());
    return dump(binary.getRHS());
  }
  case Expr::Kind::Unary: {
    const auto &unary = llvm::cast<UnaryExpr>(expr);
    line() << "Unary -";
    endLine(expr.getLoc());
    Nest nest(*this);
    return dump(unary.getOperand());
  }
  case Expr::Kind::List: {
    line() << "List";
    endLine(expr.getLoc());
    Nest nest(*this);
    for (const ExprPtr &element : llvm::cast<ListExpr>(expr).getElements())
      dump(*element);
    return;
  }
  }
}

void metac::dumpAST(const Program &program, llvm::raw_ostream &os) {
  ASTDumper(program.getSourceMgr(), os).dump(program);
}

void metac::dumpAST(const Program &program, const llvm::SourceMgr &srcMgr,
                    llvm::raw_ostream &os) {
  ASTDumper(&srcMgr, os).dump(program);
}
