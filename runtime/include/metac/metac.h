/*===- metac/metac.h - Embedding a compiled meta-learner ----------*- C -*-===*\
|*                                                                            *|
|* A program compiled by metac can be used as a library instead of an         *|
|* executable: link its object file with libmetac_runtime.a (and -lfmt        *|
|* -lpthread) and call these functions. They drive the same kernels the       *|
|* executable uses, over the same flat parameter layout, so a host            *|
|* application can run its own training loop, its own optimiser or its own    *|
|* evaluation. docs/abi.md has the reference and an example.                  *|
|*                                                                            *|
|* Conventions:                                                               *|
|*  - "flat" vectors hold every `param` and `meta` record back to back in     *|
|*    descriptor order (metac_num_parameters() floats); an adapted model      *|
|*    holds only the `param` records (metac_num_model_parameters() floats).   *|
|*  - Task data is passed as an array of metac_num_data() pointers; pointer i *|
|*    points to metac_data_size(i, n) floats for a split of n examples.       *|
|*  - Nothing aborts: functions that return int return a negative value (or   *|
|*    nonzero status) on error, metac_meta_loss_grad returns NaN, and         *|
|*    metac_last_error() says what went wrong.                                *|
|*  - All functions are thread-safe; the kernels are pure functions of their  *|
|*    buffers, so calls on different buffers may run concurrently.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/
#ifndef METAC_METAC_H
#define METAC_METAC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Floats in the flat vector of all parameters (params then meta records, in
 *  descriptor order), or -1 if the program descriptor is invalid. */
int metac_num_parameters(void);

/** Floats in the flat vector of model (`param`) parameters, or -1. */
int metac_num_model_parameters(void);

/** The training support and query set sizes (settings support, query), or
 *  -1. */
int metac_support_size(void);
int metac_query_size(void);

/** Number of data tensors per task split, or -1. */
int metac_num_data(void);

/** Floats in data tensor i of a split of n examples, or -1 if i is out of
 *  range or n < 1. */
int metac_data_size(int i, int n);

/** Writes the initial parameters for seed (the values a trained executable
 *  starts from with --seed seed) into flat. Returns 0, or nonzero on error. */
int metac_init_parameters(uint64_t seed, float *flat);

/** The meta-loss of one task and its gradient with respect to every
 *  parameter, written into flat_grad (laid out like flat_params). support and
 *  query hold metac_support_size() and metac_query_size() examples. Returns
 *  NaN on error. */
float metac_meta_loss_grad(const float *flat_params,
                           const float *const *support,
                           const float *const *query, float *flat_grad);

/** Adapts the model to a support set of metac_support_size() examples and
 *  writes the adapted model parameters (metac_num_model_parameters() floats)
 *  into adapted_model_flat (a stepwise program repeats its one-step kernel
 *  `setting inner_steps` times). adapted_model_flat must not overlap
 *  flat_params. Returns 0, or nonzero if the program has no `adapt` or
 *  `adapt_step` kernel for that size or on error. */
int metac_adapt(const float *flat_params, const float *const *support,
                float *adapted_model_flat);

/** Samples n examples of the task task_key, chosen by data_key, into
 *  out_data[i] (metac_data_size(i, n) floats each). Returns 0, or nonzero if
 *  the program has no `sample` kernel for n. The runtime derives its own keys
 *  as described in docs/runtime.md; any keys may be used here. */
int metac_sample_task(uint64_t task_key, uint64_t data_key, int n,
                      float **out_data);

/** A description of the error of the last call on this thread, or "" if it
 *  succeeded. The pointer stays valid until the next call on this thread. */
const char *metac_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* METAC_METAC_H */
