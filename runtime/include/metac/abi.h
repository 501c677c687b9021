//===- metac/abi.h - Where generated code meets the runtime -----*- C -*-===//
//
// Every program that metac emits defines exactly the three symbols below.
// The runtime (and any embedding program) learns everything else about the
// compiled program from the descriptor text, so this header never changes
// when the language grows. docs/abi.md is the full reference.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_ABI_H
#define METAC_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Every generated kernel has this signature. `args` points to an array of
/// buffer pointers whose order is fixed by the kernel's kind (see below).
/// All tensors are dense, row-major, f32 unless stated; keys are uint64_t.
/// The buffers of one call never overlap (generated code assumes it).
typedef void (*metac_kernel_fn)(void **args);

/// The program descriptor: a NUL-terminated text, one record per line,
/// whitespace-separated tokens. Records, in this order:
///
///   metac-program 1
///   name <learner-name>
///   param <name> <shape> <init>     adapted model parameter
///   meta  <name> <shape> <init>     meta-parameter (outer loop only)
///   data  <name> <shape>            task data; its real shape is [n, shape]
///   source glyphs|omniglot way <n> rotations <1|4> [classes <n>]
///          [root <dir>]
///                                   (optional) the runtime samples image
///                                   episodes; no sample kernels
///   metric <name>                   (optional, repeated) evaluation reports
///   setting <key> <integer>         support query meta_batch train
///                                   eval_tasks eval_query inner_steps
///   list <key> <integers...>        eval_steps eval_shots
///   optimizer adam lr <f> beta1 <f> beta2 <f> eps <f>
///   optimizer sgd lr <f> momentum <f>
///   kernel <id> sample <n>
///   kernel <id> meta_grad <n_support> <n_query>
///   kernel <id> adapt <n_support>
///   kernel <id> eval <n_support> <n_query>
///   kernel <id> adapt_step <n_support>
///   kernel <id> query_eval <n_query>
///   end
///
/// <shape> is `scalar` or dimensions joined by `x` (`1x40`). <init> is one of
/// `zeros`, `const <v>`, `uniform <lo> <hi>`, `normal <mean> <std>`,
/// `truncated_normal <mean> <std>` (resampled beyond 2 std).
///
/// "Parameters" below means every `param` and `meta` record, in descriptor
/// order (P of them); "model parameters" only the `param` records (M); "data"
/// the `data` records (D). Kernel argument orders:
///
///   sample n       [task_key, data_key, out data_0 .. data_{D-1}]
///                  task_key and data_key point to one uint64_t each. The same
///                  task_key gives the same task; data_key picks the examples.
///   meta_grad s q  [param_0 .. param_{P-1}, support data_0 .. data_{D-1},
///                   query data_0 .. data_{D-1}, out loss (1 float),
///                   out grad_0 .. grad_{P-1}]
///                  The meta-objective of one task and its gradient with
///                  respect to every parameter.
///   adapt s        [param_0 .. param_{P-1}, support data..., out adapted
///                   model param_0 .. param_{M-1}]
///   eval s q       [param_0 .. param_{P-1}, support data..., query data...,
///                   out values (per eval_steps entry: the loss, then one
///                   float per metric record)]
///                  The objective (and metrics) after k inner steps, for
///                  each k listed.
///   adapt_step s   like adapt s, one inner step. A program whose steps
///                  depend on nothing but the parameters has these instead
///                  of adapt and eval kernels; the runtime repeats them.
///   query_eval q   [param_0 .. param_{P-1}, query data..., out values (the
///                   loss, then one float per metric record)]
const char *metac_program(void);

/// The kernel table, indexed by the ids in the descriptor's kernel records.
extern const metac_kernel_fn metac_kernels[];

/// The CPU the kernels were compiled for, as one line:
///   cpu=NAME features=F1,F2,...
/// NAME is LLVM's name of the CPU (metac --cpu, or the compiling machine's
/// with --cpu=native) and the features are those of metac/cpu_features.def
/// that it has. The runtime checks them before it runs any kernel. Not part
/// of the descriptor: a checkpoint resumes under a build for another CPU.
extern const char metac_target[];

#ifdef __cplusplus
}
#endif

#endif // METAC_ABI_H
