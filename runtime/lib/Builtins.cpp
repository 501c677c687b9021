//===- Builtins.cpp - Matrix products and convolutions for generated code -===//
//
// metac_matmul is Eigen's blocked GEMM on row-major views of the buffers.
//
// Convolutions use im2col: the receptive fields of a block of output pixels are
// copied into the rows of a matrix P [pixels, kh*kw*c] (zeros where a field
// leaves the image), after which
//   forward        out  = P  x W            W = filter as [kh*kw*c, f]
//   filter grad    dW  += P^T x dOut
//   input grad     dP   = dOut x W^T, then each row of dP is added back
//                  onto the pixels it was copied from (col2im)
// Images are processed in blocks of about kRowsPerBlock output pixels, so P
// stays in cache and is reused from a per-thread scratch buffer.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Builtins.h"

#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

using RowMatrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;

constexpr int64_t kRowsPerBlock = 512;

/// A per-thread buffer for P, grown on demand and kept between calls.
float *scratch(int64_t Floats) {
  thread_local std::vector<float> Buffer;
  if (static_cast<int64_t>(Buffer.size()) < Floats)
    Buffer.resize(Floats);
  return Buffer.data();
}

struct Conv {
  int64_t N, H, W, C, KH, KW, F, OH, OW, SH, SW, PH, PW;

  int64_t pixels() const { return OH * OW; }
  int64_t fieldSize() const { return KH * KW * C; }
  /// Images per block: about kRowsPerBlock output pixels.
  int64_t imagesPerBlock() const {
    return std::max<int64_t>(1, kRowsPerBlock / pixels());
  }
  /// A 1x1 stride-1 unpadded convolution reads its input as P directly.
  bool isPointwise() const {
    return KH == 1 && KW == 1 && SH == 1 && SW == 1 && PH == 0 && PW == 0;
  }

  /// Copies the receptive fields of images [n0, n0 + count) into P.
  void im2col(const float *In, int64_t N0, int64_t Count, float *P) const {
    for (int64_t Img = N0; Img < N0 + Count; ++Img)
      for (int64_t Y = 0; Y < OH; ++Y)
        for (int64_t X = 0; X < OW; ++X) {
          for (int64_t I = 0; I < KH; ++I) {
            int64_t IY = Y * SH + I - PH;
            float *Row = P + I * KW * C;
            if (IY < 0 || IY >= H) {
              std::memset(Row, 0, sizeof(float) * KW * C);
              continue;
            }
            for (int64_t J = 0; J < KW; ++J) {
              int64_t IX = X * SW + J - PW;
              if (IX < 0 || IX >= W)
                std::memset(Row + J * C, 0, sizeof(float) * C);
              else
                std::memcpy(Row + J * C, In + ((Img * H + IY) * W + IX) * C,
                            sizeof(float) * C);
            }
          }
          P += fieldSize();
        }
  }

  /// P for images [N0, N0 + Count): the input itself for a pointwise
  /// convolution, else its im2col in this thread's scratch buffer.
  const float *patches(const float *In, int64_t N0, int64_t Count) const {
    if (isPointwise())
      return In + N0 * H * W * C;
    float *Buffer = scratch(Count * pixels() * fieldSize());
    im2col(In, N0, Count, Buffer);
    return Buffer;
  }

  /// Adds the rows of dP back onto the input pixels they came from.
  void col2im(const float *DP, int64_t N0, int64_t Count, float *DIn) const {
    for (int64_t Img = N0; Img < N0 + Count; ++Img)
      for (int64_t Y = 0; Y < OH; ++Y)
        for (int64_t X = 0; X < OW; ++X) {
          for (int64_t I = 0; I < KH; ++I) {
            int64_t IY = Y * SH + I - PH;
            if (IY < 0 || IY >= H)
              continue;
            for (int64_t J = 0; J < KW; ++J) {
              int64_t IX = X * SW + J - PW;
              if (IX < 0 || IX >= W)
                continue;
              float *Dst = DIn + ((Img * H + IY) * W + IX) * C;
              const float *Src = DP + (I * KW + J) * C;
              for (int64_t K = 0; K < C; ++K)
                Dst[K] += Src[K];
            }
          }
          DP += fieldSize();
        }
  }
};

} // namespace

#define METAC_CONV_ARGS                                                        \
  int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw,          \
      int64_t f, int64_t oh, int64_t ow, int64_t sh, int64_t sw, int64_t ph,   \
      int64_t pw
#define METAC_CONV_INIT                                                        \
  { n, h, w, c, kh, kw, f, oh, ow, sh, sw, ph, pw }

extern "C" void metac_conv2d(const float *In, const float *filter, float *Out,
                             METAC_CONV_ARGS) {
  const Conv K = METAC_CONV_INIT;
  ConstMatrixMap Wt(filter, K.fieldSize(), K.F);
  const int64_t Block = K.imagesPerBlock();
  for (int64_t N0 = 0; N0 < K.N; N0 += Block) {
    int64_t Count = std::min(Block, K.N - N0);
    int64_t Rows = Count * K.pixels();
    const float *P = K.patches(In, N0, Count);
    MatrixMap(Out + N0 * K.pixels() * K.F, Rows, K.F).noalias() =
        ConstMatrixMap(P, Rows, K.fieldSize()) * Wt;
  }
}

extern "C" void metac_conv2d_input_grad(const float *DOut, const float *filter,
                                        float *DIn, METAC_CONV_ARGS) {
  const Conv K = METAC_CONV_INIT;
  ConstMatrixMap Wt(filter, K.fieldSize(), K.F);
  const int64_t Block = K.imagesPerBlock();
  if (K.isPointwise()) {
    MatrixMap(DIn, K.N * K.pixels(), K.C).noalias() =
        ConstMatrixMap(DOut, K.N * K.pixels(), K.F) * Wt.transpose();
    return;
  }
  std::fill(DIn, DIn + K.N * K.H * K.W * K.C, 0.0f);
  for (int64_t N0 = 0; N0 < K.N; N0 += Block) {
    int64_t Count = std::min(Block, K.N - N0);
    int64_t Rows = Count * K.pixels();
    float *DP = scratch(Rows * K.fieldSize());
    MatrixMap(DP, Rows, K.fieldSize()).noalias() =
        ConstMatrixMap(DOut + N0 * K.pixels() * K.F, Rows, K.F) *
        Wt.transpose();
    K.col2im(DP, N0, Count, DIn);
  }
}

extern "C" void metac_conv2d_filter_grad(const float *In, const float *DOut,
                                         float *d_filter, METAC_CONV_ARGS) {
  const Conv K = METAC_CONV_INIT;
  MatrixMap DW(d_filter, K.fieldSize(), K.F);
  DW.setZero();
  const int64_t Block = K.imagesPerBlock();
  for (int64_t N0 = 0; N0 < K.N; N0 += Block) {
    int64_t Count = std::min(Block, K.N - N0);
    int64_t Rows = Count * K.pixels();
    const float *P = K.patches(In, N0, Count);
    DW.noalias() += ConstMatrixMap(P, Rows, K.fieldSize()).transpose() *
                    ConstMatrixMap(DOut + N0 * K.pixels() * K.F, Rows, K.F);
  }
}

void metac_matmul(const float *a, const float *b, float *out, int64_t m,
                  int64_t k, int64_t n) {
  MatrixMap(out, m, n).noalias() =
      ConstMatrixMap(a, m, k) * ConstMatrixMap(b, k, n);
}
