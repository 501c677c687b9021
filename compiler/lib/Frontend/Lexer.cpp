//===- Lexer.cpp - tokens of the metac language ---------------------------===//
//
// Part of metac, a compiler for meta-learning algorithms.
//
//===----------------------------------------------------------------------===//

#include "metac/Frontend/Lexer.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace metac;
using llvm::StringRef;

static bool isIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool isDigit(char c) { return c >= '0' && c <= '9'; }
static bool isIdentifierChar(char c) {
  return isIdentifierStart(c) || isDigit(c);
}

llvm::StringRef metac::getTokenKindDescription(TokenKind kind) {
  switch (kind) {
  case TokenKind::eof:
    return "end of file";
  case TokenKind::error:
    return "invalid token";
  case TokenKind::identifier:
    return "identifier";
  case TokenKind::integer:
    return "integer";
  case TokenKind::floating:
    return "number";
  case TokenKind::string:
    return "string";
  case TokenKind::kw_tasks:
    return "'tasks'";
  case TokenKind::kw_model:
    return "'model'";
  case TokenKind::kw_learner:
    return "'learner'";
  case TokenKind::kw_param:
    return "'param'";
  case TokenKind::kw_meta:
    return "'meta'";
  case TokenKind::kw_adapt:
    return "'adapt'";
  case TokenKind::kw_objective:
    return "'objective'";
  case TokenKind::kw_repeat:
    return "'repeat'";
  case TokenKind::kw_as:
    return "'as'";
  case TokenKind::kw_sample:
    return "'sample'";
  case TokenKind::kw_like:
    return "'like'";
  case TokenKind::l_paren:
    return "'('";
  case TokenKind::r_paren:
    return "')'";
  case TokenKind::l_square:
    return "'['";
  case TokenKind::r_square:
    return "']'";
  case TokenKind::l_brace:
    return "'{'";
  case TokenKind::r_brace:
    return "'}'";
  case TokenKind::comma:
    return "','";
  case TokenKind::semicolon:
    return "';'";
  case TokenKind::colon:
    return "':'";
  case TokenKind::period:
    return "'.'";
  case TokenKind::equal:
    return "'='";
  case TokenKind::tilde:
    return "'~'";
  case TokenKind::plus:
    return "'+'";
  case TokenKind::minus:
    return "'-'";
  case TokenKind::star:
    return "'*'";
  case TokenKind::slash:
    return "'/'";
  case TokenKind::at:
    return "'@'";
  case TokenKind::less:
    return "'<'";
  case TokenKind::less_equal:
    return "'<='";
  case TokenKind::greater:
    return "'>'";
  case TokenKind::greater_equal:
    return "'>='";
  case TokenKind::equal_equal:
    return "'=='";
  case TokenKind::not_equal:
    return "'!='";
  case TokenKind::arrow:
    return "'->'";
  }
  return "token";
}

Token Lexer::lex() {
  // The first token of the buffer starts a line, as does any token preceded
  // by a newline (possibly inside a comment's line).
  bool firstOnLine = atStartOfBuffer;
  atStartOfBuffer = false;
  while (cur != end) {
    char c = *cur;
    if (c == '\n') {
      firstOnLine = true;
      ++cur;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++cur;
    } else if (c == '#') {
      while (cur != end && *cur != '\n')
        ++cur;
    } else {
      break;
    }
  }

  const char *start = cur;
  if (cur == end)
    return makeToken(TokenKind::eof, start, firstOnLine);

  char c = *cur++;
  if (isIdentifierStart(c))
    return lexIdentifier(start, firstOnLine);
  if (isDigit(c) || (c == '.' && cur != end && isDigit(*cur)))
    return lexNumber(start, firstOnLine);

  auto next = [&](char expected) {
    if (cur != end && *cur == expected) {
      ++cur;
      return true;
    }
    return false;
  };
  switch (c) {
  case '(':
    return makeToken(TokenKind::l_paren, start, firstOnLine);
  case ')':
    return makeToken(TokenKind::r_paren, start, firstOnLine);
  case '[':
    return makeToken(TokenKind::l_square, start, firstOnLine);
  case ']':
    return makeToken(TokenKind::r_square, start, firstOnLine);
  case '{':
    return makeToken(TokenKind::l_brace, start, firstOnLine);
  case '}':
    return makeToken(TokenKind::r_brace, start, firstOnLine);
  case ',':
    return makeToken(TokenKind::comma, start, firstOnLine);
  case ';':
    return makeToken(TokenKind::semicolon, start, firstOnLine);
  case ':':
    return makeToken(TokenKind::colon, start, firstOnLine);
  case '.':
    return makeToken(TokenKind::period, start, firstOnLine);
  case '~':
    return makeToken(TokenKind::tilde, start, firstOnLine);
  case '+':
    return makeToken(TokenKind::plus, start, firstOnLine);
  case '*':
    return makeToken(TokenKind::star, start, firstOnLine);
  case '/':
    return makeToken(TokenKind::slash, start, firstOnLine);
  case '@':
    return makeToken(TokenKind::at, start, firstOnLine);
  case '-':
    return makeToken(next('>') ? TokenKind::arrow : TokenKind::minus, start,
                     firstOnLine);
  case '=':
    return makeToken(next('=') ? TokenKind::equal_equal : TokenKind::equal,
                     start, firstOnLine);
  case '<':
    return makeToken(next('=') ? TokenKind::less_equal : TokenKind::less, start,
                     firstOnLine);
  case '>':
    return makeToken(next('=') ? TokenKind::greater_equal : TokenKind::greater,
                     start, firstOnLine);
  case '!':
    if (next('='))
      return makeToken(TokenKind::not_equal, start, firstOnLine);
    break;
  case '"':
    return lexString(start, firstOnLine);
  default:
    break;
  }
  cur = start;
  return lexInvalidCharacter(start, firstOnLine);
}

Token Lexer::lexIdentifier(const char *start, bool firstOnLine) {
  while (cur != end && isIdentifierChar(*cur))
    ++cur;
  StringRef spelling(start, cur - start);
  TokenKind kind = llvm::StringSwitch<TokenKind>(spelling)
                       .Case("tasks", TokenKind::kw_tasks)
                       .Case("model", TokenKind::kw_model)
                       .Case("learner", TokenKind::kw_learner)
                       .Case("param", TokenKind::kw_param)
                       .Case("meta", TokenKind::kw_meta)
                       .Case("adapt", TokenKind::kw_adapt)
                       .Case("objective", TokenKind::kw_objective)
                       .Case("repeat", TokenKind::kw_repeat)
                       .Case("as", TokenKind::kw_as)
                       .Case("sample", TokenKind::kw_sample)
                       .Case("like", TokenKind::kw_like)
                       .Default(TokenKind::identifier);
  return Token(kind, spelling, firstOnLine);
}

// number := digits ('.' digits?)? exponent? | '.' digits exponent?
// exponent := [eE] [+-]? digits
Token Lexer::lexNumber(const char *start, bool firstOnLine) {
  bool isFloat = *start == '.';
  while (cur != end && isDigit(*cur))
    ++cur;
  if (!isFloat && cur != end && *cur == '.') {
    isFloat = true;
    ++cur;
    while (cur != end && isDigit(*cur))
      ++cur;
  }
  bool missingExponentDigits = false;
  if (cur != end && (*cur == 'e' || *cur == 'E')) {
    isFloat = true;
    ++cur;
    if (cur != end && (*cur == '+' || *cur == '-'))
      ++cur;
    if (cur == end || !isDigit(*cur))
      missingExponentDigits = true;
    while (cur != end && isDigit(*cur))
      ++cur;
  }

  // A number running straight into letters, digits or dots ("1.2.3", "2x",
  // "1e5e") is one malformed token, not several confusing ones.
  bool trailingGarbage = false;
  while (cur != end && (isIdentifierChar(*cur) || *cur == '.')) {
    trailingGarbage = true;
    ++cur;
  }

  Token tok = makeToken(isFloat ? TokenKind::floating : TokenKind::integer,
                        start, firstOnLine);
  if (missingExponentDigits || trailingGarbage) {
    std::string msg =
        ("malformed number '" + llvm::Twine(tok.getSpelling()) + "'").str();
    if (missingExponentDigits && !trailingGarbage)
      msg += ": expected digits after the exponent";
    tok = makeToken(TokenKind::error, start, firstOnLine);
    tok.setError(std::move(msg), tok.getLoc());
  }
  return tok;
}

Token Lexer::lexString(const char *start, bool firstOnLine) {
  std::string escapeError;
  const char *escapeLoc = nullptr;
  while (true) {
    if (cur == end || *cur == '\n') {
      // Stop at the end of the line: a missing quote must not swallow the
      // rest of the file.
      Token tok = makeToken(TokenKind::error, start, firstOnLine);
      tok.setError("unterminated string literal", tok.getLoc());
      return tok;
    }
    char c = *cur++;
    if (c == '"')
      break;
    if (c != '\\')
      continue;
    if (cur == end || *cur == '\n')
      continue; // Reported as unterminated on the next iteration.
    char e = *cur++;
    if (e != '\\' && e != '"' && e != 'n' && e != 't' && !escapeLoc) {
      escapeLoc = cur - 2;
      llvm::raw_string_ostream os(escapeError);
      os << "unknown escape sequence '\\";
      auto byte = static_cast<unsigned char>(e);
      if (byte >= 0x20 && byte < 0x7f)
        os << e;
      else
        os << 'x' << llvm::format_hex_no_prefix(byte, 2, /*Upper=*/true);
      os << "' in string literal";
    }
  }
  Token tok = makeToken(TokenKind::string, start, firstOnLine);
  if (escapeLoc) {
    tok = makeToken(TokenKind::error, start, firstOnLine);
    tok.setError(std::move(escapeError),
                 llvm::SMLoc::getFromPointer(escapeLoc));
  }
  return tok;
}

Token Lexer::lexInvalidCharacter(const char *start, bool firstOnLine) {
  auto byte = static_cast<unsigned char>(*cur);
  std::string msg = "invalid character ";
  llvm::raw_string_ostream os(msg);
  if (byte >= 0x20 && byte < 0x7f) {
    ++cur;
    os << "'" << static_cast<char>(byte) << "'";
  } else if (byte >= 0x80) {
    // Show a well-formed UTF-8 character as itself (a researcher pasting
    // 'α' from a paper should see 'α'), anything else byte by byte.
    unsigned len = llvm::getNumBytesForUTF8(byte);
    const auto *p = reinterpret_cast<const llvm::UTF8 *>(cur);
    if (len > 1 && static_cast<size_t>(end - cur) >= len &&
        llvm::isLegalUTF8Sequence(p, p + len)) {
      os << "'" << StringRef(cur, len)
         << "'; only ASCII is allowed outside comments and strings";
      cur += len;
    } else {
      ++cur;
      os << "'\\x" << llvm::format_hex_no_prefix(byte, 2, /*Upper=*/true)
         << "'";
    }
  } else {
    ++cur;
    os << "'\\x" << llvm::format_hex_no_prefix(byte, 2, /*Upper=*/true) << "'";
  }
  Token tok = makeToken(TokenKind::error, start, firstOnLine);
  tok.setError(std::move(os.str()), tok.getLoc());
  return tok;
}

std::string metac::unescapeStringLiteral(StringRef spelling) {
  if (spelling.size() >= 2 && spelling.front() == '"' && spelling.back() == '"')
    spelling = spelling.drop_front().drop_back();
  std::string value;
  value.reserve(spelling.size());
  for (size_t i = 0, e = spelling.size(); i != e; ++i) {
    char c = spelling[i];
    if (c != '\\' || i + 1 == e) {
      value += c;
      continue;
    }
    char esc = spelling[++i];
    value += esc == 'n' ? '\n' : esc == 't' ? '\t' : esc;
  }
  return value;
}
