//===- Parser.cpp - recursive-descent parser for metac --------------------===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//
//
// A hand-written recursive-descent parser; docs/language.md has the grammar.
//
// Two rules shape the code:
//  - Statements end at a newline. The lexer marks the first token of every
//    line, and an expression stops before such a token unless it is inside
//    ( ) or [ ] (bracketDepth > 0). So `a\n+ b` is two statements while
//    `f(a,\n b)` and `a +\n b` are one.
//  - One error per declaration. A parse function that fails returns null
//    (or false) after reporting; its callers return at once, and the top
//    level skips to the next declaration. declarationFailed is a safety net
//    that silences anything reported after the first error.
//
//===----------------------------------------------------------------------===//

#include "metac/Frontend/Parser.h"

#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

using namespace metac;
using llvm::SMLoc;
using llvm::SMRange;
using llvm::Twine;

//===----------------------------------------------------------------------===//
// RAII helpers
//===----------------------------------------------------------------------===//

/// Counts one level of recursive descent; the first level past the limit
/// reports "... nested too deeply" and makes the caller fail.
class Parser::NestingGuard {
public:
  NestingGuard(Parser &parser, llvm::StringRef what) : parser(parser) {
    ok = ++parser.nestingDepth <= kMaxNestingDepth;
    if (!ok)
      parser.errorAtCurrent(Twine(what) + " nested too deeply (the limit is " +
                            Twine(kMaxNestingDepth) + " levels)");
  }
  ~NestingGuard() { --parser.nestingDepth; }
  bool failed() const { return !ok; }

private:
  Parser &parser;
  bool ok;
};

/// Marks the inside of ( ) or [ ], where newlines do not end statements.
class Parser::BracketScope {
public:
  explicit BracketScope(Parser &parser) : parser(parser) {
    ++parser.bracketDepth;
  }
  ~BracketScope() { --parser.bracketDepth; }

private:
  Parser &parser;
};

//===----------------------------------------------------------------------===//
// Token stream
//===----------------------------------------------------------------------===//

Parser::Parser(llvm::SourceMgr &srcMgr, DiagnosticEngine &diags)
    : Parser(srcMgr, srcMgr.getMainFileID(), diags) {}

Parser::Parser(llvm::SourceMgr &srcMgr, unsigned bufferID,
               DiagnosticEngine &diags)
    : srcMgr(srcMgr), diags(diags),
      lexer(srcMgr.getMemoryBuffer(bufferID)->getBuffer()) {}

const Token &Parser::peek(unsigned n) {
  while (lookahead.size() <= n)
    lookahead.push_back(lexer.lex());
  return lookahead[n];
}

Token Parser::consume() {
  peek();
  Token tok = std::move(lookahead.front());
  lookahead.pop_front();
  // eof is never really consumed, so loops that consume until some token
  // still terminate (they all test for eof too).
  if (tok.isNot(TokenKind::eof)) {
    prevTokenEnd = tok.getEndLoc();
    ++tokensConsumed;
  } else {
    lookahead.push_front(tok);
  }
  return tok;
}

bool Parser::consumeIf(TokenKind kind) {
  if (peek().isNot(kind))
    return false;
  consume();
  return true;
}

bool Parser::continuesExpression() {
  return bracketDepth > 0 || !peek().isFirstOnLine();
}

bool Parser::atDeclarationStart() {
  const Token &tok = peek();
  if (tok.is(TokenKind::kw_tasks) || tok.is(TokenKind::kw_learner))
    return peek(1).is(TokenKind::identifier) && peek(2).is(TokenKind::l_brace);
  if (tok.is(TokenKind::kw_model))
    return peek(1).is(TokenKind::identifier) && peek(2).is(TokenKind::l_paren);
  return false;
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

bool Parser::errorAt(SMLoc loc, const Twine &msg,
                     llvm::ArrayRef<SMRange> ranges) {
  if (declarationFailed)
    return false;
  declarationFailed = true;
  // A lexical error at the current token is the real problem: "invalid
  // character '$'" says more than "expected expression".
  const Token &tok = peek();
  if (tok.is(TokenKind::error)) {
    diags.error(tok.getErrorLoc(), tok.getErrorMessage(), tok.getRange());
    return false;
  }
  diags.error(loc, msg, ranges);
  return true;
}

bool Parser::errorAtCurrent(const Twine &msg) {
  const Token &tok = peek();
  if (tok.is(TokenKind::eof))
    return errorExpected(msg);
  return errorAt(tok.getLoc(), msg, tok.getRange());
}

bool Parser::errorExpected(const Twine &msg) {
  const Token &tok = peek();
  if ((tok.is(TokenKind::eof) || tok.isFirstOnLine()) && prevTokenEnd.isValid())
    return errorAt(prevTokenEnd, msg);
  return errorAt(tok.getLoc(), msg,
                 tok.is(TokenKind::eof)
                     ? llvm::ArrayRef<SMRange>()
                     : llvm::ArrayRef<SMRange>(tok.getRange()));
}

bool Parser::expect(TokenKind kind, const Twine &msg, SMLoc openLoc,
                    llvm::StringRef open) {
  if (consumeIf(kind))
    return true;
  if (errorExpected(msg) && openLoc.isValid())
    diags.note(openLoc, "to match this '" + open + "'");
  return false;
}

bool Parser::parseIdentifier(Identifier &out, const Twine &msg) {
  const Token &tok = peek();
  if (tok.is(TokenKind::identifier)) {
    out = Identifier(tok.getSpelling().str(), tok.getLoc());
    consume();
    return true;
  }
  // `model tasks(...)`: say why a perfectly good-looking name is refused.
  if (tok.isKeyword() && !tok.isFirstOnLine())
    errorAtCurrent(msg + "; '" + tok.getSpelling() + "' is a keyword");
  else
    errorExpected(msg);
  return false;
}

bool Parser::parseIntegerToken(int64_t &out) {
  Token tok = consume();
  if (!tok.getSpelling().getAsInteger(10, out))
    return true;
  if (!declarationFailed) {
    declarationFailed = true;
    diags.error(tok.getLoc(),
                "integer literal '" + tok.getSpelling() + "' is too large",
                tok.getRange());
  }
  return false;
}

void Parser::recoverToNextDeclaration() {
  // Lexical errors in the skipped text are never reported: they are part of
  // the declaration that already has an error.
  while (peek().isNot(TokenKind::eof) && !atDeclarationStart())
    consume();
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

std::unique_ptr<Program> Parser::parse() {
  auto program = std::make_unique<Program>(&srcMgr);
  while (peek().isNot(TokenKind::eof)) {
    declarationFailed = false;
    uint64_t start = tokensConsumed;
    DeclPtr decl;
    switch (peek().getKind()) {
    case TokenKind::kw_tasks:
      decl = parseTasksDecl();
      break;
    case TokenKind::kw_model:
      decl = parseModelDecl();
      break;
    case TokenKind::kw_learner:
      decl = parseLearnerDecl();
      break;
    default:
      errorAtCurrent("expected a 'tasks', 'model' or 'learner' declaration");
      break;
    }
    if (decl) {
      program->addDecl(std::move(decl));
      continue;
    }
    // Always make progress, even if the failure was at the first token.
    if (tokensConsumed == start)
      consume();
    recoverToNextDeclaration();
  }
  return program;
}

/// Text for messages: "'Sine'".
static std::string quoted(llvm::StringRef name) {
  return ("'" + name + "'").str();
}

// tasks := 'tasks' IDENT '{' task_item* '}'
//          | 'tasks' IDENT '=' IDENT '(' args ')'     (a built-in source)
std::unique_ptr<TasksDecl> Parser::parseTasksDecl() {
  Token keyword = consume();
  Identifier name;
  if (!parseIdentifier(name, "expected a name for the task distribution"))
    return nullptr;
  auto decl = std::make_unique<TasksDecl>(keyword.getLoc(), name);
  if (consumeIf(TokenKind::equal)) {
    Identifier callee;
    if (!parseIdentifier(callee, "expected a task source after '=', as in "
                                 "'tasks Chars = glyphs(way = 5)'"))
      return nullptr;
    if (peek().isNot(TokenKind::l_paren)) {
      errorExpected("expected '(' after the task source '" + callee.name + "'");
      return nullptr;
    }
    std::unique_ptr<CallExpr> source = parseCallAfterCallee(std::move(callee));
    if (!source)
      return nullptr;
    decl->setSource(std::move(source));
    return decl;
  }
  SMLoc lBrace = peek().getLoc();
  if (!expect(TokenKind::l_brace,
              "expected '{' or '=' after 'tasks " + name.name + "'"))
    return nullptr;

  std::string what = "task distribution " + quoted(name.name);
  while (true) {
    while (consumeIf(TokenKind::semicolon)) {
    }
    if (consumeIf(TokenKind::r_brace))
      return decl;
    if (peek().is(TokenKind::eof) || atDeclarationStart()) {
      if (errorExpected("expected '}' at the end of " + what))
        diags.note(lBrace, "to match this '{'");
      return nullptr;
    }

    const Token &tok = peek();
    if (tok.is(TokenKind::kw_sample)) {
      Token sampleTok = consume();
      SMLoc lParen = peek().getLoc();
      Identifier size;
      if (!expect(TokenKind::l_paren,
                  "expected '(' after 'sample', as in 'sample(n)'") ||
          !parseIdentifier(size, "expected the name of the sample size, as "
                                 "in 'sample(n)'") ||
          !expect(TokenKind::r_paren, "expected ')' after the sample size name",
                  lParen, "("))
        return nullptr;
      Block body;
      if (!parseBlock(body, {"the 'sample' block of " + what, false}))
        return nullptr;
      if (decl->hasSample()) {
        // Not a syntax error, so parsing goes on.
        diags
            .error(sampleTok.getLoc(),
                   what + " has more than one 'sample' block",
                   sampleTok.getRange())
            .note(decl->getSampleLoc(), "the first one is here");
      } else {
        decl->setSample(sampleTok.getLoc(), std::move(size), std::move(body));
      }
    } else if (tok.is(TokenKind::identifier) &&
               (tok.getSpelling() == "reset" || tok.getSpelling() == "step") &&
               peek(1).is(TokenKind::l_paren)) {
      if (!parseEnvironmentBlock(*decl, what))
        return nullptr;
    } else if (tok.is(TokenKind::identifier) &&
               tok.getSpelling() == "simulator" &&
               peek(1).is(TokenKind::identifier)) {
      Token simTok = consume();
      Identifier callee;
      if (!parseIdentifier(callee, "expected a simulator, as in "
                                   "'simulator mujoco(\"runner.xml\")'"))
        return nullptr;
      if (peek().isNot(TokenKind::l_paren)) {
        errorExpected("expected '(' after the simulator '" + callee.name + "'");
        return nullptr;
      }
      std::unique_ptr<CallExpr> call = parseCallAfterCallee(std::move(callee));
      if (!call)
        return nullptr;
      if (decl->getSimulator())
        diags
            .error(simTok.getLoc(), what + " has more than one 'simulator'",
                   simTok.getRange())
            .note(decl->getSimulatorLoc(), "the first one is here");
      else
        decl->setSimulator(simTok.getLoc(), std::move(call));
    } else if (tok.is(TokenKind::identifier) &&
               tok.getSpelling() == "horizon" &&
               peek(1).is(TokenKind::integer)) {
      Token horizonTok = consume();
      SMLoc valueLoc = peek().getLoc();
      int64_t steps;
      if (!parseIntegerToken(steps))
        return nullptr;
      if (decl->getHorizonLoc().isValid())
        diags
            .error(horizonTok.getLoc(), what + " has more than one 'horizon'",
                   horizonTok.getRange())
            .note(decl->getHorizonLoc(), "the first one is here");
      else if (steps < 1 || steps > 100000)
        diags.error(valueLoc, "'horizon' must be between 1 and 100000");
      else
        decl->setHorizon(horizonTok.getLoc(), steps);
    } else if (tok.is(TokenKind::identifier) && peek(1).is(TokenKind::tilde)) {
      StmtPtr latent = parseDraw();
      if (!latent)
        return nullptr;
      decl->addLatent(std::move(latent));
    } else if (tok.is(TokenKind::identifier) && peek(1).is(TokenKind::equal)) {
      StmtPtr latent = parseAssign();
      if (!latent)
        return nullptr;
      decl->addLatent(std::move(latent));
    } else {
      errorAtCurrent("expected a latent variable ('name ~ distribution(...)' "
                     "or 'name = expression'), 'sample(n) { ... }', or an "
                     "environment's 'reset(n) { ... }', 'step(obs, action) "
                     "{ ... }', 'simulator mujoco(\"FILE\")' or 'horizon "
                     "N' in " +
                     what);
      return nullptr;
    }
    if (!parseStmtEnd())
      return nullptr;
  }
}

// env_block := 'reset' '(' IDENT ')' block
//            | 'step' '(' IDENT ',' IDENT (',' IDENT)? ')' block
bool Parser::parseEnvironmentBlock(TasksDecl &decl, const std::string &what) {
  Token keyword = consume();
  bool isReset = keyword.getSpelling() == "reset";
  SMLoc lParen = consume().getLoc();
  Identifier first, second, third;
  if (isReset) {
    if (!parseIdentifier(first, "expected the number of episodes' name, as "
                                "in 'reset(n)'") ||
        !expect(TokenKind::r_paren, "expected ')' after the episode count name",
                lParen, "("))
      return false;
  } else if (!parseIdentifier(first, "expected the state's name, as in "
                                     "'step(obs, action)'") ||
             !expect(TokenKind::comma, "expected ',' and the action's name, as "
                                       "in 'step(obs, action)'") ||
             !parseIdentifier(second, "expected the action's name, as in "
                                      "'step(obs, action)'")) {
    return false;
  } else if (consumeIf(TokenKind::comma)) {
    // A simulator's environment: the third names its sensor readings.
    if (!parseIdentifier(third, "expected the name of the simulator's "
                                "readings, as in 'step(obs, action, sim)'") ||
        !expect(TokenKind::r_paren, "expected ')' after the readings' name",
                lParen, "("))
      return false;
  } else if (!expect(TokenKind::r_paren, "expected ')' after the action's name",
                     lParen, "(")) {
    return false;
  }
  Block body;
  if (!parseBlock(body,
                  {"the '" + keyword.getSpelling().str() + "' block of " + what,
                   false}))
    return false;
  SMLoc previous = isReset ? decl.getResetLoc() : decl.getStepLoc();
  if (previous.isValid()) {
    diags
        .error(keyword.getLoc(),
               what + " has more than one '" + keyword.getSpelling() +
                   "' block",
               keyword.getRange())
        .note(previous, "the first one is here");
    return true;
  }
  if (isReset)
    decl.setReset(keyword.getLoc(), std::move(first), std::move(body));
  else
    decl.setStep(keyword.getLoc(), std::move(first), std::move(second),
                 std::move(third), std::move(body));
  return true;
}

// type := IDENT ('[' dim (',' dim)* ']')?     dim := INT | IDENT
bool Parser::parseType(TypeAST &out, const Twine &msg) {
  const Token &tok = peek();
  if (tok.isNot(TokenKind::identifier)) {
    errorExpected(msg);
    return false;
  }
  out = TypeAST(tok.getSpelling().str(), tok.getLoc());
  out.setEndLoc(tok.getEndLoc());
  consume();
  if (peek().isNot(TokenKind::l_square))
    return true;

  SMLoc lSquare = consume().getLoc();
  std::vector<DimAST> dims;
  while (true) {
    const Token &dimTok = peek();
    DimAST dim;
    dim.loc = dimTok.getLoc();
    if (dimTok.is(TokenKind::integer)) {
      if (!parseIntegerToken(dim.size))
        return false;
    } else if (dimTok.is(TokenKind::identifier)) {
      dim.isSymbolic = true;
      dim.symbol = dimTok.getSpelling().str();
      consume();
    } else {
      errorExpected("expected a dimension (an integer or a name such as 'n')");
      return false;
    }
    dims.push_back(std::move(dim));
    if (consumeIf(TokenKind::comma))
      continue;
    if (peek().is(TokenKind::r_square))
      break;
    if (errorExpected("expected ',' or ']' in the shape of type '" +
                      out.getElementType() + "'"))
      diags.note(lSquare, "to match this '['");
    return false;
  }
  out.setEndLoc(consume().getEndLoc());
  out.setShape(std::move(dims));
  return true;
}

// model := 'model' IDENT '(' typed_arg (',' typed_arg)* ')' ('->' type)? block
std::unique_ptr<ModelDecl> Parser::parseModelDecl() {
  Token keyword = consume();
  Identifier name;
  if (!parseIdentifier(name, "expected a model name"))
    return nullptr;
  std::string what = "model " + quoted(name.name);
  SMLoc lParen = peek().getLoc();
  if (!expect(TokenKind::l_paren, "expected '(' and the arguments of " + what))
    return nullptr;

  std::vector<TypedArg> args;
  while (true) {
    TypedArg arg;
    if (!parseIdentifier(arg.name, "expected an argument name in " + what))
      return nullptr;
    if (!expect(TokenKind::colon, "expected ':' and a type after argument " +
                                      quoted(arg.name.name)) ||
        !parseType(arg.type, "expected a type such as 'f32' or 'f32[n, 1]' "
                             "for argument " +
                                 quoted(arg.name.name)))
      return nullptr;
    args.push_back(std::move(arg));
    if (consumeIf(TokenKind::comma))
      continue;
    if (!expect(TokenKind::r_paren,
                "expected ')' to close the argument list of " + what, lParen,
                "("))
      return nullptr;
    break;
  }

  std::optional<TypeAST> resultType;
  if (consumeIf(TokenKind::arrow)) {
    resultType.emplace();
    if (!parseType(*resultType, "expected a result type after '->'"))
      return nullptr;
  }

  Block body;
  if (!parseBlock(body, {"the body of " + what, true}))
    return nullptr;
  return std::make_unique<ModelDecl>(keyword.getLoc(), std::move(name),
                                     std::move(args), std::move(resultType),
                                     std::move(body));
}

// learner := 'learner' IDENT '{' learner_item* '}'
std::unique_ptr<LearnerDecl> Parser::parseLearnerDecl() {
  Token keyword = consume();
  Identifier name;
  if (!parseIdentifier(name, "expected a learner name"))
    return nullptr;
  SMLoc lBrace = peek().getLoc();
  if (!expect(TokenKind::l_brace,
              "expected '{' after 'learner " + name.name + "'"))
    return nullptr;

  auto decl = std::make_unique<LearnerDecl>(keyword.getLoc(), name);
  llvm::StringMap<SMLoc> settings;
  while (true) {
    while (consumeIf(TokenKind::semicolon) || consumeIf(TokenKind::comma)) {
    }
    if (consumeIf(TokenKind::r_brace))
      return decl;
    if (peek().is(TokenKind::eof) || atDeclarationStart()) {
      if (errorExpected("expected '}' at the end of learner " +
                        quoted(name.name)))
        diags.note(lBrace, "to match this '{'");
      return nullptr;
    }
    LearnerItemPtr item = parseLearnerItem(settings);
    if (!item || !parseItemEnd())
      return nullptr;
    decl->addItem(std::move(item));
  }
}

// Items are separated by a newline, ',' or ';'.
bool Parser::parseItemEnd() {
  const Token &tok = peek();
  if (tok.is(TokenKind::comma) || tok.is(TokenKind::semicolon)) {
    consume();
    return true;
  }
  if (tok.is(TokenKind::r_brace) || tok.is(TokenKind::eof) ||
      tok.isFirstOnLine())
    return true;
  errorAtCurrent("expected a newline, ',' or ';' after the learner item");
  return false;
}

LearnerItemPtr Parser::parseLearnerItem(llvm::StringMap<SMLoc> &settings) {
  const Token &tok = peek();
  switch (tok.getKind()) {
  case TokenKind::kw_tasks: {
    SMLoc loc = consume().getLoc();
    Identifier name;
    if (!parseIdentifier(name, "expected the name of a task distribution after "
                               "'tasks'"))
      return nullptr;
    return std::make_unique<TasksItem>(loc, std::move(name));
  }
  case TokenKind::kw_model: {
    SMLoc loc = consume().getLoc();
    Identifier name;
    if (!parseIdentifier(name, "expected the name of a model after 'model'"))
      return nullptr;
    return std::make_unique<ModelItem>(loc, std::move(name));
  }
  case TokenKind::kw_meta:
    return parseMetaItem();
  case TokenKind::kw_adapt:
    return parseAdaptItem();
  case TokenKind::kw_objective:
    return parseObjectiveItem();
  case TokenKind::identifier:
    break;
  default:
    errorAtCurrent("expected a learner item (tasks, model, meta, adapt, "
                   "objective, metric, an optimizer, evaluate, or a setting "
                   "such as 'support 10')");
    return nullptr;
  }

  if (tok.getSpelling() == "evaluate")
    return parseEvaluateItem();
  if (tok.getSpelling() == "metric" && peek(1).is(TokenKind::identifier) &&
      !peek(1).isFirstOnLine())
    return parseMetricItem();

  Identifier key(tok.getSpelling().str(), tok.getLoc());
  consume();
  // A setting given twice is almost certainly a copy-paste slip; which one
  // should win is not obvious, so it is an error. Parsing goes on.
  auto noteSetting = [&](const Identifier &key) {
    auto [it, inserted] = settings.try_emplace(key.name, key.loc);
    if (!inserted)
      diags
          .error(key.loc, "duplicate learner setting " + quoted(key.name),
                 key.getRange())
          .note(it->second,
                "previous setting of " + quoted(key.name) + " is here");
  };
  const Token &value = peek();
  if (value.is(TokenKind::integer) && !value.isFirstOnLine()) {
    SMLoc valueLoc = value.getLoc();
    int64_t v;
    if (!parseIntegerToken(v))
      return nullptr;
    noteSetting(key);
    return std::make_unique<SettingItem>(std::move(key), v, valueLoc);
  }
  if (value.is(TokenKind::identifier) && !value.isFirstOnLine())
    return parseOptimizerItem(std::move(key));
  // The few settings that take reals (of environment learners).
  bool real = key.name == "discount" || key.name == "gae_lambda";
  if (value.is(TokenKind::floating) && !value.isFirstOnLine() && !real) {
    errorAtCurrent("the value of learner setting " + quoted(key.name) +
                   " must be an integer");
    return nullptr;
  }
  if (value.is(TokenKind::floating) && !value.isFirstOnLine()) {
    SMLoc valueLoc = value.getLoc();
    ExprPtr number = parseNumber();
    if (!number)
      return nullptr;
    noteSetting(key);
    return std::make_unique<SettingItem>(
        std::move(key), llvm::cast<NumberExpr>(*number).getValue(), valueLoc);
  }
  errorExpected("expected an integer value after learner setting " +
                quoted(key.name));
  return nullptr;
}

// 'meta' IDENT ':' (type | 'like' IDENT) ('=' expr)?
LearnerItemPtr Parser::parseMetaItem() {
  SMLoc loc = consume().getLoc();
  Identifier name;
  if (!parseIdentifier(name, "expected the name of a meta-parameter after "
                             "'meta'") ||
      !expect(TokenKind::colon,
              "expected ':' after meta-parameter " + quoted(name.name)))
    return nullptr;

  bool like = false;
  Identifier likeName;
  TypeAST type;
  if (consumeIf(TokenKind::kw_like)) {
    like = true;
    if (!parseIdentifier(likeName,
                         "expected the name of a parameter record after "
                         "'like'"))
      return nullptr;
  } else if (peek().is(TokenKind::identifier)) {
    if (!parseType(type, ""))
      return nullptr;
  } else {
    errorExpected("expected a type (such as 'f32[5]') or 'like theta' after "
                  "'meta " +
                  name.name + ":'");
    return nullptr;
  }

  ExprPtr init;
  if (consumeIf(TokenKind::equal)) {
    init = parseExpr();
    if (!init)
      return nullptr;
  }
  if (like)
    return std::make_unique<MetaItem>(loc, std::move(name), std::move(likeName),
                                      std::move(init));
  return std::make_unique<MetaItem>(loc, std::move(name), std::move(type),
                                    std::move(init));
}

// '(' IDENT ',' IDENT ')' after 'adapt' or 'objective'.
bool Parser::parseParamsAndData(const Token &keyword, Identifier &params,
                                Identifier &data,
                                std::pair<Identifier, Identifier> *extra) {
  std::string form = ("'" + keyword.getSpelling() + "(params, data)'").str();
  SMLoc lParen = peek().getLoc();
  if (!expect(TokenKind::l_paren, "expected '(' after '" +
                                      keyword.getSpelling() + "', as in " +
                                      form) ||
      !parseIdentifier(params,
                       "expected the parameters' name, as in " + form) ||
      !expect(TokenKind::comma,
              "expected ',' and the data name, as in " + form) ||
      !parseIdentifier(data, "expected the data name, as in " + form))
    return false;
  // (theta, q, theta0, s): the initial parameters and the support set too.
  if (extra && consumeIf(TokenKind::comma)) {
    std::string full =
        ("'" + keyword.getSpelling() + "(theta, q, theta0, s)'").str();
    if (!parseIdentifier(extra->first, "expected the name of the parameters "
                                       "before adaptation, as in " +
                                           full) ||
        !expect(TokenKind::comma,
                "expected ',' and the support set's name, as in " + full) ||
        !parseIdentifier(extra->second,
                         "expected the support set's name, as in " + full))
      return false;
  }
  return expect(TokenKind::r_paren,
                "expected ')' after the data name of '" +
                    keyword.getSpelling() + "'",
                lParen, "(");
}

// 'adapt' '(' IDENT ',' IDENT ')' block
LearnerItemPtr Parser::parseAdaptItem() {
  Token keyword = consume();
  Identifier params, data;
  Block body;
  if (!parseParamsAndData(keyword, params, data) ||
      !parseBlock(body, {"the 'adapt' block", false}))
    return nullptr;
  return std::make_unique<AdaptItem>(keyword.getLoc(), std::move(params),
                                     std::move(data), std::move(body));
}

// ('=' expr | block) after 'objective(params, data)' or a metric's header.
bool Parser::parseScalarBody(const Token &keyword, const Identifier &params,
                             const Identifier &data, Block &body,
                             bool &exprForm) {
  exprForm = false;
  if (peek().is(TokenKind::equal)) {
    SMLoc equalLoc = consume().getLoc();
    ExprPtr value = parseExpr();
    if (!value)
      return false;
    exprForm = true;
    // An `= expr` objective reads like a block holding one statement, so
    // MLIRGen handles both forms alike.
    body.lBraceLoc = equalLoc;
    body.stmts.push_back(std::make_unique<ExprStmt>(std::move(value)));
    return true;
  }
  if (peek().is(TokenKind::l_brace))
    return parseBlock(
        body, {"the '" + keyword.getSpelling().str() + "' block", false});
  errorExpected("expected '= expression' or '{' after '" +
                keyword.getSpelling() + "(" + params.name + ", " + data.name +
                ")'");
  return false;
}

// 'objective' '(' IDENT ',' IDENT ')' ('=' expr | block)
LearnerItemPtr Parser::parseObjectiveItem() {
  Token keyword = consume();
  Identifier params, data;
  std::pair<Identifier, Identifier> extra;
  Block body;
  bool exprForm;
  if (!parseParamsAndData(keyword, params, data, &extra) ||
      !parseScalarBody(keyword, params, data, body, exprForm))
    return nullptr;
  auto item = std::make_unique<ObjectiveItem>(
      keyword.getLoc(), std::move(params), std::move(data), std::move(body),
      exprForm);
  if (!extra.second.name.empty())
    item->setSupportArguments(std::move(extra.first), std::move(extra.second));
  return item;
}

// 'metric' IDENT '(' IDENT ',' IDENT ')' ('=' expr | block)
LearnerItemPtr Parser::parseMetricItem() {
  SMLoc loc = consume().getLoc();
  if (peek().isNot(TokenKind::identifier)) {
    errorExpected("expected the metric's name, as in 'metric accuracy(theta, "
                  "q) = ...'");
    return nullptr;
  }
  Token nameTok = consume();
  Identifier name(nameTok.getSpelling().str(), nameTok.getLoc());
  Identifier params, data;
  std::pair<Identifier, Identifier> extra;
  Block body;
  bool exprForm;
  if (!parseParamsAndData(nameTok, params, data, &extra) ||
      !parseScalarBody(nameTok, params, data, body, exprForm))
    return nullptr;
  auto item =
      std::make_unique<MetricItem>(loc, std::move(name), std::move(params),
                                   std::move(data), std::move(body), exprForm);
  if (!extra.second.name.empty())
    item->setSupportArguments(std::move(extra.first), std::move(extra.second));
  return item;
}

// IDENT IDENT '(' kwargs? ')'     e.g. optimizer adam(lr = 0.001)
LearnerItemPtr Parser::parseOptimizerItem(Identifier key) {
  Identifier kind(peek().getSpelling().str(), peek().getLoc());
  consume();
  SMLoc lParen = peek().getLoc();
  if (!expect(TokenKind::l_paren, "expected '(' after '" + key.name + " " +
                                      kind.name +
                                      "', as in 'adam(lr = 0.001)'"))
    return nullptr;
  std::vector<KeywordArg> kwargs;
  if (!parseKeywordArgs(kwargs, kind.name, lParen))
    return nullptr;
  return std::make_unique<OptimizerItem>(std::move(key), std::move(kind),
                                         std::move(kwargs));
}

// Keyword arguments up to and including ')': `lr = 0.001, beta1 = 0.9)`.
bool Parser::parseKeywordArgs(std::vector<KeywordArg> &kwargs,
                              llvm::StringRef owner, SMLoc lParenLoc) {
  BracketScope brackets(*this);
  while (peek().isNot(TokenKind::r_paren)) {
    if (!peek().isIdentifierLike() || peek(1).isNot(TokenKind::equal)) {
      errorAtCurrent("expected a keyword argument 'name = value' in the "
                     "configuration of " +
                     quoted(owner));
      return false;
    }
    KeywordArg arg;
    arg.name = Identifier(peek().getSpelling().str(), peek().getLoc());
    consume();
    consume(); // '='
    arg.value = parseExpr();
    if (!arg.value)
      return false;
    for (const KeywordArg &prev : kwargs)
      if (prev.name.name == arg.name.name) {
        diags
            .error(arg.name.loc,
                   "duplicate keyword argument " + quoted(arg.name.name),
                   arg.name.getRange())
            .note(prev.name.loc, "previous value is here");
        break;
      }
    kwargs.push_back(std::move(arg));
    if (!consumeIf(TokenKind::comma))
      break;
  }
  return expect(TokenKind::r_paren,
                "expected ')' to close the configuration of " + quoted(owner),
                lParenLoc, "(");
}

// 'evaluate' eval_pair (',' eval_pair)*     eval_pair := IDENT (INT | list)
LearnerItemPtr Parser::parseEvaluateItem() {
  SMLoc loc = consume().getLoc();
  std::vector<EvalPair> pairs;
  while (true) {
    EvalPair pair;
    if (!peek().isIdentifierLike() || peek().isFirstOnLine()) {
      errorExpected("expected an evaluation setting such as 'tasks 600' or "
                    "'steps [0, 1, 5]' after 'evaluate'");
      return nullptr;
    }
    pair.key = Identifier(peek().getSpelling().str(), peek().getLoc());
    consume();

    const Token &value = peek();
    if (value.is(TokenKind::integer) && !value.isFirstOnLine()) {
      pair.valueLocs.push_back(value.getLoc());
      pair.values.emplace_back();
      if (!parseIntegerToken(pair.values.back()))
        return nullptr;
    } else if (value.is(TokenKind::l_square) && !value.isFirstOnLine()) {
      pair.isList = true;
      SMLoc lSquare = consume().getLoc();
      BracketScope brackets(*this);
      while (peek().isNot(TokenKind::r_square)) {
        if (peek().isNot(TokenKind::integer)) {
          errorExpected("expected an integer in the list of evaluation "
                        "setting " +
                        quoted(pair.key.name));
          return nullptr;
        }
        pair.valueLocs.push_back(peek().getLoc());
        pair.values.emplace_back();
        if (!parseIntegerToken(pair.values.back()))
          return nullptr;
        if (!consumeIf(TokenKind::comma))
          break;
      }
      if (!expect(TokenKind::r_square,
                  "expected ']' to close the list of evaluation setting " +
                      quoted(pair.key.name),
                  lSquare, "["))
        return nullptr;
    } else {
      errorExpected("expected an integer or a list of integers after "
                    "evaluation setting " +
                    quoted(pair.key.name));
      return nullptr;
    }

    for (const EvalPair &prev : pairs)
      if (prev.key.name == pair.key.name) {
        diags
            .error(pair.key.loc,
                   "duplicate evaluation setting " + quoted(pair.key.name),
                   pair.key.getRange())
            .note(prev.key.loc, "previous value is here");
        break;
      }
    pairs.push_back(std::move(pair));

    // The pairs run to the end of the line: a ',' followed by more on the
    // same line continues the evaluate item, a ',' ending the line only
    // separates it from the next learner item.
    if (peek().is(TokenKind::comma) && !peek(1).isFirstOnLine() &&
        peek(1).isNot(TokenKind::eof)) {
      consume();
      continue;
    }
    break;
  }
  return std::make_unique<EvaluateItem>(loc, std::move(pairs));
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

// block := '{' stmt* '}'
bool Parser::parseBlock(Block &out, const BlockContext &context) {
  NestingGuard guard(*this, "blocks");
  if (guard.failed())
    return false;
  out.lBraceLoc = peek().getLoc();
  if (!expect(TokenKind::l_brace,
              "expected '{' to start " + context.description))
    return false;
  // Blocks never sit inside brackets today, but if one ever does its
  // statements must still end at newlines.
  unsigned savedBrackets = bracketDepth;
  bracketDepth = 0;
  bool ok = true;
  while (true) {
    while (consumeIf(TokenKind::semicolon)) {
    }
    if (peek().is(TokenKind::r_brace)) {
      out.rBraceLoc = consume().getLoc();
      break;
    }
    if (peek().is(TokenKind::eof) || atDeclarationStart()) {
      if (errorExpected("expected '}' at the end of " + context.description))
        diags.note(out.lBraceLoc, "to match this '{'");
      ok = false;
      break;
    }
    StmtPtr stmt = parseStmt(context);
    if (!stmt || !parseStmtEnd()) {
      ok = false;
      break;
    }
    out.stmts.push_back(std::move(stmt));
  }
  bracketDepth = savedBrackets;
  return ok;
}

// A statement ends at a newline, ';' or the '}' closing its block.
bool Parser::parseStmtEnd() {
  const Token &tok = peek();
  if (tok.is(TokenKind::semicolon)) {
    consume();
    return true;
  }
  if (tok.is(TokenKind::r_brace) || tok.is(TokenKind::eof) ||
      tok.isFirstOnLine())
    return true;
  errorAtCurrent("expected a newline or ';' after the statement");
  return false;
}

StmtPtr Parser::parseStmt(const BlockContext &context) {
  const Token &tok = peek();
  switch (tok.getKind()) {
  case TokenKind::kw_repeat:
    return parseRepeat(context);
  case TokenKind::kw_param:
    if (!context.allowParam) {
      errorAtCurrent("'param' declarations are only allowed in the body of "
                     "a model");
      return nullptr;
    }
    return parseParam();
  case TokenKind::identifier:
    if (peek(1).is(TokenKind::tilde))
      return parseDraw();
    if (isAssignmentAhead())
      return parseAssign();
    break;
  default:
    break;
  }
  ExprPtr expr = parseExpr();
  if (!expr)
    return nullptr;
  return std::make_unique<ExprStmt>(std::move(expr));
}

// Looks past `a.b.c` for '=' without consuming anything.
bool Parser::isAssignmentAhead() {
  unsigned i = 1;
  while (peek(i).is(TokenKind::period) && peek(i + 1).isIdentifierLike())
    i += 2;
  return peek(i).is(TokenKind::equal);
}

// path '=' expr       path := IDENT ('.' IDENT)*
StmtPtr Parser::parseAssign() {
  std::vector<Identifier> path;
  path.emplace_back(peek().getSpelling().str(), peek().getLoc());
  consume();
  while (consumeIf(TokenKind::period)) {
    path.emplace_back(peek().getSpelling().str(), peek().getLoc());
    consume();
  }
  SMLoc equalLoc = consume().getLoc();
  ExprPtr value = parseExpr();
  if (!value)
    return nullptr;
  return std::make_unique<AssignStmt>(std::move(path), std::move(value),
                                      equalLoc);
}

// IDENT '~' IDENT '(' args ')'
StmtPtr Parser::parseDraw() {
  Identifier name(peek().getSpelling().str(), peek().getLoc());
  consume();
  SMLoc tildeLoc = consume().getLoc();
  if (peek().isNot(TokenKind::identifier) ||
      peek(1).isNot(TokenKind::l_paren)) {
    errorExpected("expected a distribution call such as 'uniform(lo, hi)' "
                  "after '~'");
    return nullptr;
  }
  Identifier callee(peek().getSpelling().str(), peek().getLoc());
  consume();
  std::unique_ptr<CallExpr> call = parseCallAfterCallee(std::move(callee));
  if (!call)
    return nullptr;
  return std::make_unique<DrawStmt>(std::move(name), std::move(call), tildeLoc);
}

// 'repeat' INT ('as' IDENT)? block
StmtPtr Parser::parseRepeat(const BlockContext &context) {
  SMLoc loc = consume().getLoc();
  const Token &countTok = peek();
  SMLoc countLoc = countTok.getLoc();
  int64_t count = 0;
  if (countTok.is(TokenKind::integer)) {
    if (!parseIntegerToken(count))
      return nullptr;
  } else {
    errorExpected("expected an integer repeat count after 'repeat'");
    return nullptr;
  }
  std::optional<Identifier> index;
  if (consumeIf(TokenKind::kw_as)) {
    index.emplace();
    if (!parseIdentifier(*index, "expected a step index name after 'as'"))
      return nullptr;
  }
  Block body;
  if (!parseBlock(body, {"the body of 'repeat'", context.allowParam}))
    return nullptr;
  return std::make_unique<RepeatStmt>(loc, count, countLoc, std::move(index),
                                      std::move(body));
}

// 'param' IDENT ':' type (('=' | '~') expr)?
StmtPtr Parser::parseParam() {
  SMLoc loc = consume().getLoc();
  Identifier name;
  if (!parseIdentifier(name, "expected a parameter name after 'param'") ||
      !expect(TokenKind::colon,
              "expected ':' and a type after parameter " + quoted(name.name)))
    return nullptr;
  TypeAST type;
  if (!parseType(type, "expected a type such as 'f32[1, 40]' for parameter " +
                           quoted(name.name)))
    return nullptr;
  ParamStmt::InitKind initKind = ParamStmt::InitKind::None;
  ExprPtr init;
  SMLoc initLoc;
  if (peek().is(TokenKind::equal) || peek().is(TokenKind::tilde)) {
    initKind = peek().is(TokenKind::equal) ? ParamStmt::InitKind::Value
                                           : ParamStmt::InitKind::Draw;
    initLoc = consume().getLoc();
    init = parseExpr();
    if (!init)
      return nullptr;
  }
  return std::make_unique<ParamStmt>(loc, std::move(name), std::move(type),
                                     initKind, std::move(init), initLoc);
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

ExprPtr Parser::checkHeight(ExprPtr expr) {
  if (expr->getHeight() <= kMaxNestingDepth)
    return expr;
  if (!declarationFailed) {
    declarationFailed = true;
    diags.error(expr->getLoc(), "expression nested too deeply (the limit is " +
                                    Twine(kMaxNestingDepth) + " levels)");
  }
  return nullptr;
}

ExprPtr Parser::parseExpr() {
  NestingGuard guard(*this, "expression");
  if (guard.failed())
    return nullptr;
  return parseComparison();
}

static std::optional<BinaryOp> getComparisonOp(TokenKind kind) {
  switch (kind) {
  case TokenKind::less:
    return BinaryOp::Lt;
  case TokenKind::less_equal:
    return BinaryOp::Le;
  case TokenKind::greater:
    return BinaryOp::Gt;
  case TokenKind::greater_equal:
    return BinaryOp::Ge;
  case TokenKind::equal_equal:
    return BinaryOp::Eq;
  case TokenKind::not_equal:
    return BinaryOp::Ne;
  default:
    return std::nullopt;
  }
}

// comparison := additive (cmp additive)?     (not chainable)
ExprPtr Parser::parseComparison() {
  ExprPtr lhs = parseAdditive();
  if (!lhs || !continuesExpression())
    return lhs;
  std::optional<BinaryOp> op = getComparisonOp(peek().getKind());
  if (!op)
    return lhs;
  SMLoc opLoc = consume().getLoc();
  ExprPtr rhs = parseAdditive();
  if (!rhs)
    return nullptr;
  ExprPtr result = checkHeight(
      std::make_unique<BinaryExpr>(*op, std::move(lhs), std::move(rhs), opLoc));
  if (result && continuesExpression() && getComparisonOp(peek().getKind())) {
    // `a < b < c` means something else in Python than in C; refuse both.
    errorAtCurrent("comparison operators cannot be chained; use parentheses");
    return nullptr;
  }
  return result;
}

// additive := term (('+' | '-') term)*
ExprPtr Parser::parseAdditive() {
  ExprPtr lhs = parseTerm();
  while (lhs && continuesExpression() &&
         (peek().is(TokenKind::plus) || peek().is(TokenKind::minus))) {
    BinaryOp op = peek().is(TokenKind::plus) ? BinaryOp::Add : BinaryOp::Sub;
    SMLoc opLoc = consume().getLoc();
    ExprPtr rhs = parseTerm();
    if (!rhs)
      return nullptr;
    lhs = checkHeight(std::make_unique<BinaryExpr>(op, std::move(lhs),
                                                   std::move(rhs), opLoc));
  }
  return lhs;
}

// term := unary (('*' | '/' | '@') unary)*
ExprPtr Parser::parseTerm() {
  ExprPtr lhs = parseUnary();
  while (lhs && continuesExpression()) {
    BinaryOp op;
    if (peek().is(TokenKind::star))
      op = BinaryOp::Mul;
    else if (peek().is(TokenKind::slash))
      op = BinaryOp::Div;
    else if (peek().is(TokenKind::at))
      op = BinaryOp::MatMul;
    else
      break;
    SMLoc opLoc = consume().getLoc();
    ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = checkHeight(std::make_unique<BinaryExpr>(op, std::move(lhs),
                                                   std::move(rhs), opLoc));
  }
  return lhs;
}

// unary := '-' unary | postfix
ExprPtr Parser::parseUnary() {
  if (peek().isNot(TokenKind::minus))
    return parsePostfix();
  NestingGuard guard(*this, "expression");
  if (guard.failed())
    return nullptr;
  SMLoc opLoc = consume().getLoc();
  ExprPtr operand = parseUnary();
  if (!operand)
    return nullptr;
  return checkHeight(
      std::make_unique<UnaryExpr>(UnaryOp::Neg, std::move(operand), opLoc));
}

// postfix := primary ('.' IDENT | '[' expr (',' expr)* ']' | '(' args ')')*
ExprPtr Parser::parsePostfix() {
  // `(f)(x)` is not a call: only a name written as such is callable.
  bool bareName = peek().is(TokenKind::identifier);
  ExprPtr expr = parsePrimary();
  while (expr && continuesExpression()) {
    const Token &tok = peek();
    if (tok.is(TokenKind::period)) {
      SMLoc dotLoc = consume().getLoc();
      if (!peek().isIdentifierLike() ||
          (peek().isFirstOnLine() && bracketDepth == 0)) {
        errorExpected("expected a field name after '.'");
        return nullptr;
      }
      Identifier field(peek().getSpelling().str(), peek().getLoc());
      consume();
      expr = checkHeight(std::make_unique<FieldExpr>(std::move(expr),
                                                     std::move(field), dotLoc));
    } else if (tok.is(TokenKind::l_square)) {
      SMLoc lSquare = consume().getLoc();
      BracketScope brackets(*this);
      std::vector<ExprPtr> indices;
      do {
        ExprPtr index = parseExpr();
        if (!index)
          return nullptr;
        indices.push_back(std::move(index));
      } while (consumeIf(TokenKind::comma));
      SMLoc end = peek().getEndLoc();
      if (!expect(TokenKind::r_square, "expected ']' to close the index",
                  lSquare, "["))
        return nullptr;
      expr = checkHeight(std::make_unique<IndexExpr>(
          std::move(expr), std::move(indices), lSquare, end));
    } else if (tok.is(TokenKind::l_paren)) {
      // Only names are called: functions are not values in this language.
      auto *name = llvm::dyn_cast<NameExpr>(expr.get());
      if (!name || !bareName) {
        errorAtCurrent("only a function or model name can be called");
        return nullptr;
      }
      Identifier callee = name->getIdentifier();
      expr = parseCallAfterCallee(std::move(callee));
    } else {
      break;
    }
  }
  return expr;
}

// '(' args ')' after the callee name; args := (arg (',' arg)*)? with
// arg := (IDENT '=')? expr, positional arguments first. A trailing comma is
// allowed so long argument lists can be written one per line.
std::unique_ptr<CallExpr> Parser::parseCallAfterCallee(Identifier callee) {
  SMLoc lParen = consume().getLoc();
  BracketScope brackets(*this);
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> kwargs;
  std::string closeMsg =
      "expected ')' to close the call to " + quoted(callee.name);
  while (peek().isNot(TokenKind::r_paren)) {
    if (peek().isIdentifierLike() && peek(1).is(TokenKind::equal)) {
      KeywordArg arg;
      arg.name = Identifier(peek().getSpelling().str(), peek().getLoc());
      consume();
      consume(); // '='
      arg.value = parseExpr();
      if (!arg.value)
        return nullptr;
      for (const KeywordArg &prev : kwargs)
        if (prev.name.name == arg.name.name) {
          diags
              .error(arg.name.loc,
                     "duplicate keyword argument " + quoted(arg.name.name) +
                         " in the call to " + quoted(callee.name),
                     arg.name.getRange())
              .note(prev.name.loc, "previous value is here");
          break;
        }
      kwargs.push_back(std::move(arg));
    } else {
      if (!kwargs.empty()) {
        errorAtCurrent("positional argument after keyword argument " +
                       quoted(kwargs.back().name.name) + " in the call to " +
                       quoted(callee.name));
        return nullptr;
      }
      ExprPtr arg = parseExpr();
      if (!arg)
        return nullptr;
      args.push_back(std::move(arg));
    }
    if (!consumeIf(TokenKind::comma))
      break;
  }
  SMLoc end = peek().getEndLoc();
  if (!expect(TokenKind::r_paren, closeMsg, lParen, "("))
    return nullptr;
  auto call = std::make_unique<CallExpr>(std::move(callee), std::move(args),
                                         std::move(kwargs), lParen, end);
  if (call->getHeight() > kMaxNestingDepth) {
    checkHeight(std::move(call)); // Reports.
    return nullptr;
  }
  return call;
}

static bool isBinaryOperator(TokenKind kind) {
  switch (kind) {
  case TokenKind::plus:
  case TokenKind::star:
  case TokenKind::slash:
  case TokenKind::at:
  case TokenKind::less:
  case TokenKind::less_equal:
  case TokenKind::greater:
  case TokenKind::greater_equal:
  case TokenKind::equal_equal:
  case TokenKind::not_equal:
    return true;
  default:
    return false;
  }
}

// primary := NUMBER | STRING | IDENT | '(' expr ')' | '[' (expr (',' expr)*)?
// ']'
ExprPtr Parser::parsePrimary() {
  const Token &tok = peek();
  switch (tok.getKind()) {
  case TokenKind::integer:
  case TokenKind::floating:
    return parseNumber();
  case TokenKind::string: {
    Token str = consume();
    return std::make_unique<StringExpr>(
        unescapeStringLiteral(str.getSpelling()), str.getRange());
  }
  case TokenKind::identifier: {
    Token name = consume();
    return std::make_unique<NameExpr>(
        Identifier(name.getSpelling().str(), name.getLoc()));
  }
  case TokenKind::l_paren: {
    SMLoc lParen = consume().getLoc();
    BracketScope brackets(*this);
    ExprPtr inner = parseExpr();
    if (!inner || !expect(TokenKind::r_paren,
                          "expected ')' to close the parenthesized "
                          "expression",
                          lParen, "("))
      return nullptr;
    return inner;
  }
  case TokenKind::l_square:
    return parseList();
  default:
    break;
  }

  // Nothing here starts an expression. Say why when it is a common slip.
  if (tok.isKeyword()) {
    errorAtCurrent("expected an expression; '" + tok.getSpelling() +
                   "' is a keyword");
  } else if (isBinaryOperator(tok.getKind()) && tok.isFirstOnLine() &&
             bracketDepth == 0) {
    if (errorAtCurrent("expected an expression"))
      diags.note(tok.getLoc(),
                 "an operator at the start of a line does not continue the "
                 "previous line; end that line with the operator or wrap "
                 "the expression in parentheses");
  } else {
    errorExpected("expected an expression");
  }
  return nullptr;
}

ExprPtr Parser::parseNumber() {
  Token tok = peek();
  if (tok.is(TokenKind::integer)) {
    int64_t value;
    if (!parseIntegerToken(value))
      return nullptr;
    return std::make_unique<NumberExpr>(tok.getSpelling().str(),
                                        static_cast<double>(value), true, value,
                                        tok.getRange());
  }
  consume();
  double value = 0;
  if (tok.getSpelling().getAsDouble(value) || !std::isfinite(value)) {
    if (!declarationFailed) {
      declarationFailed = true;
      diags.error(tok.getLoc(),
                  "number '" + tok.getSpelling() + "' is out of range",
                  tok.getRange());
    }
    return nullptr;
  }
  return std::make_unique<NumberExpr>(tok.getSpelling().str(), value, false, 0,
                                      tok.getRange());
}

// '[' (expr (',' expr)* ','?)? ']'
ExprPtr Parser::parseList() {
  SMLoc lSquare = consume().getLoc();
  BracketScope brackets(*this);
  std::vector<ExprPtr> elements;
  while (peek().isNot(TokenKind::r_square)) {
    ExprPtr element = parseExpr();
    if (!element)
      return nullptr;
    elements.push_back(std::move(element));
    if (!consumeIf(TokenKind::comma))
      break;
  }
  SMLoc end = peek().getEndLoc();
  if (!expect(TokenKind::r_square, "expected ']' to close the list", lSquare,
              "["))
    return nullptr;
  return checkHeight(
      std::make_unique<ListExpr>(std::move(elements), lSquare, end));
}
