//===- Lexer.h - tokens of the metac language -------------------*- C++ -*-===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//
//
// The lexer turns a source buffer into tokens on demand. It never reports
// diagnostics itself: a lexical error (a bad character, an unterminated
// string, a malformed number) becomes an `error` token that carries its
// message, and the parser reports it when it reaches that token. This keeps
// diagnostics in source order and lets the parser's error recovery skip the
// rest of a broken declaration silently, lexical errors included.
//
// Statements end at a newline, so every token records whether it is the
// first one on its line.
//
//===----------------------------------------------------------------------===//

#ifndef METAC_FRONTEND_LEXER_H
#define METAC_FRONTEND_LEXER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <string>

namespace metac {

enum class TokenKind {
  eof,
  error, ///< A lexical error; Token::getErrorMessage() says which.

  identifier, ///< [A-Za-z_][A-Za-z0-9_]*
  integer,    ///< 10
  floating,   ///< 0.01  1e-3  2.5E+4  .5  1.
  string,     ///< "..." (spelling includes the quotes and escapes)

  // Keywords. Everything else (support, optimizer, evaluate, f32, ...) is an
  // identifier whose meaning depends on where it appears.
  kw_tasks,
  kw_model,
  kw_learner,
  kw_param,
  kw_meta,
  kw_adapt,
  kw_objective,
  kw_repeat,
  kw_as,
  kw_sample,
  kw_like,

  // Punctuation.
  l_paren,       // (
  r_paren,       // )
  l_square,      // [
  r_square,      // ]
  l_brace,       // {
  r_brace,       // }
  comma,         // ,
  semicolon,     // ;
  colon,         // :
  period,        // .
  equal,         // =
  tilde,         // ~
  plus,          // +
  minus,         // -
  star,          // *
  slash,         // /
  at,            // @
  less,          // <
  less_equal,    // <=
  greater,       // >
  greater_equal, // >=
  equal_equal,   // ==
  not_equal,     // !=
  arrow,         // ->
};

/// How a token kind is written in messages: "')'", "identifier", "'model'".
llvm::StringRef getTokenKindDescription(TokenKind kind);

/// One token. Its spelling points into the source buffer, which the
/// SourceMgr keeps alive for the whole compilation.
class Token {
public:
  Token() = default;
  Token(TokenKind kind, llvm::StringRef spelling, bool firstOnLine)
      : kind(kind), spelling(spelling), firstOnLine(firstOnLine) {}

  TokenKind getKind() const { return kind; }
  bool is(TokenKind k) const { return kind == k; }
  bool isNot(TokenKind k) const { return kind != k; }
  bool isKeyword() const {
    return kind >= TokenKind::kw_tasks && kind <= TokenKind::kw_like;
  }
  /// Identifiers and keywords: the tokens that may name a field, a keyword
  /// argument or an evaluation setting (`evaluate tasks 600`).
  bool isIdentifierLike() const {
    return kind == TokenKind::identifier || isKeyword();
  }

  llvm::StringRef getSpelling() const { return spelling; }
  /// True if no other token precedes this one on its source line.
  bool isFirstOnLine() const { return firstOnLine; }

  llvm::SMLoc getLoc() const {
    return llvm::SMLoc::getFromPointer(spelling.data());
  }
  /// One past the last character of the token.
  llvm::SMLoc getEndLoc() const {
    return llvm::SMLoc::getFromPointer(spelling.data() + spelling.size());
  }
  llvm::SMRange getRange() const { return {getLoc(), getEndLoc()}; }

  /// For error tokens: the message, and where it points (a bad escape
  /// sequence points inside the string, not at its opening quote).
  const std::string &getErrorMessage() const { return errorMessage; }
  llvm::SMLoc getErrorLoc() const {
    return errorLoc.isValid() ? errorLoc : getLoc();
  }
  void setError(std::string message, llvm::SMLoc loc) {
    errorMessage = std::move(message);
    errorLoc = loc;
  }

private:
  TokenKind kind = TokenKind::eof;
  llvm::StringRef spelling;
  bool firstOnLine = true;
  std::string errorMessage;
  llvm::SMLoc errorLoc;
};

/// Splits a buffer into tokens. The buffer may contain anything (NUL bytes,
/// invalid UTF-8): every byte ends up in some token, comment or whitespace,
/// and once the end is reached lex() keeps returning `eof`.
class Lexer {
public:
  explicit Lexer(llvm::StringRef buffer)
      : cur(buffer.begin()), end(buffer.end()) {}

  Token lex();

private:
  Token lexIdentifier(const char *start, bool firstOnLine);
  Token lexNumber(const char *start, bool firstOnLine);
  Token lexString(const char *start, bool firstOnLine);
  Token lexInvalidCharacter(const char *start, bool firstOnLine);
  Token makeToken(TokenKind kind, const char *start, bool firstOnLine) {
    return Token(kind, llvm::StringRef(start, cur - start), firstOnLine);
  }

  const char *cur;
  const char *end;
  bool atStartOfBuffer = true;
};

/// Decodes the escapes of a well-formed string token (one the lexer accepted)
/// and returns its value without the quotes.
std::string unescapeStringLiteral(llvm::StringRef spelling);

} // namespace metac

#endif // METAC_FRONTEND_LEXER_H
