//===- metac/runtime/Error.h - Errors reported to the user ------*- C++ -*-===//
//
// The runtime reports every problem a user can cause (a bad flag, a corrupt
// checkpoint, a diverging run) as an Error that carries the complete message
// and the process exit code. Only the entry point catches it, so library code
// never prints and never exits on its own.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_ERROR_H
#define METAC_RUNTIME_ERROR_H

#include <stdexcept>
#include <string>

namespace metac::runtime {

/// Exit codes of every metac executable (documented in docs/runtime.md).
enum ExitCode : int {
  ExitSuccess = 0,
  /// A descriptor, checkpoint or I/O problem.
  ExitFailure = 1,
  /// A bad command line.
  ExitUsage = 2,
  /// Training produced a NaN or an infinity.
  ExitNonFinite = 3,
  /// Interrupted by SIGINT/SIGTERM (after writing a checkpoint).
  ExitInterrupted = 130,
};

/// A user-facing failure. what() is the complete message after "metac: ".
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &Message, int ExitCode = ExitFailure)
      : std::runtime_error(Message), Code(ExitCode) {}

  int exitCode() const { return Code; }

private:
  int Code;
};

} // namespace metac::runtime

#endif // METAC_RUNTIME_ERROR_H
