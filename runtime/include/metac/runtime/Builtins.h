//===- metac/runtime/Builtins.h - Functions generated code calls -*- C++
//-*-===//
//
// Most ops are lowered to loops that LLVM compiles. Large matrix products
// and the convolutions are not: as naive seven-deep loop nests they ran at a
// few percent of the machine's peak, so the lowering calls these functions
// instead, which turn each convolution into a matrix product (im2col) done by
// Eigen's blocked, vectorised GEMM, the way XLA's CPU backend hands
// convolutions to Eigen.
//
// Calling convention: buffers are dense row-major f32 arrays, passed as
// pointers (the lowering passes memref<1xf32> views of them, which the
// bare-pointer convention turns into pointers), then the shape as 64-bit
// integers. Layouts are the dialect's: images NHWC, filters HWCF. The
// output buffer is overwritten, never read, and never overlaps an input.
// The functions are pure and thread-safe.
//
//===----------------------------------------------------------------------===//
#ifndef METAC_RUNTIME_BUILTINS_H
#define METAC_RUNTIME_BUILTINS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[m, n] = a[m, k] x b[k, n], for the matrix products large enough that
/// blocking pays (isRuntimeMatmul in the compiler).
void metac_matmul(const float *a, const float *b, float *out, int64_t m,
                  int64_t k, int64_t n);

/// The shape arguments shared by the three convolution functions, in this
/// order:
///   n, h, w, c     input image [n, h, w, c]
///   kh, kw, f      filter [kh, kw, c, f]
///   oh, ow         output [n, oh, ow, f]
///   sh, sw, ph, pw strides and zero padding (each side)

/// out[n, oh, ow, f] = sum_{i, j, c} in[n, oh*sh + i - ph, ow*sw + j - pw, c]
///                                    * filter[i, j, c, f]
void metac_conv2d(const float *in, const float *filter, float *out, int64_t n,
                  int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw,
                  int64_t f, int64_t oh, int64_t ow, int64_t sh, int64_t sw,
                  int64_t ph, int64_t pw);

/// d_in = the gradient of sum(d_out * conv2d(in, filter)) with respect to in.
void metac_conv2d_input_grad(const float *d_out, const float *filter,
                             float *d_in, int64_t n, int64_t h, int64_t w,
                             int64_t c, int64_t kh, int64_t kw, int64_t f,
                             int64_t oh, int64_t ow, int64_t sh, int64_t sw,
                             int64_t ph, int64_t pw);

/// d_filter = the gradient of sum(d_out * conv2d(in, filter)) with respect
/// to filter.
void metac_conv2d_filter_grad(const float *in, const float *d_out,
                              float *d_filter, int64_t n, int64_t h, int64_t w,
                              int64_t c, int64_t kh, int64_t kw, int64_t f,
                              int64_t oh, int64_t ow, int64_t sh, int64_t sw,
                              int64_t ph, int64_t pw);

#ifdef __cplusplus
}
#endif

#endif // METAC_RUNTIME_BUILTINS_H
