// RUN: meta-opt %s -metac-lower-to-runtime-calls | FileCheck %s
// Convolutions become calls of the runtime's functions (Builtins.h): inputs
// read through read-only to_memref, the result a fresh buffer returned as a
// restrict tensor, buffers passed as one-element views, then the shape.

// CHECK-DAG: func.func private @metac_conv2d(memref<1xf32>, memref<1xf32>, memref<1xf32>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-DAG: func.func private @metac_conv2d_input_grad(
// CHECK-DAG: func.func private @metac_conv2d_filter_grad(
// CHECK-DAG: func.func private @metac_matmul(memref<1xf32>, memref<1xf32>, memref<1xf32>, i64, i64, i64)

// CHECK-LABEL: func @conv
func.func @conv(%x: tensor<2x5x5x3xf32>, %w: tensor<3x3x3x4xf32>,
                %g: tensor<2x3x3x4xf32>)
    -> (tensor<2x3x3x4xf32>, tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32>) {
  // The result buffer is allocated before the operands' views are taken.
  // CHECK: %[[OUT:.*]] = memref.alloc() : memref<2x3x3x4xf32>
  // CHECK: %[[XM:.*]] = bufferization.to_memref %{{.*}} read_only : memref<2x5x5x3xf32>
  // CHECK: %[[XV:.*]] = memref.reinterpret_cast %[[XM]] to offset: [0], sizes: [1], strides: [1]
  // CHECK: %[[WM:.*]] = bufferization.to_memref %{{.*}} read_only : memref<3x3x3x4xf32>
  // CHECK: %[[WV:.*]] = memref.reinterpret_cast %[[WM]]
  // CHECK: %[[OV:.*]] = memref.reinterpret_cast %[[OUT]]
  // Shape: n h w c, kh kw f, oh ow, sh sw, ph pw.
  // CHECK: %[[N:.*]] = arith.constant 2 : i64
  // CHECK-NEXT: %[[H:.*]] = arith.constant 5 : i64
  // CHECK: %[[F:.*]] = arith.constant 4 : i64
  // CHECK: call @metac_conv2d(%[[XV]], %[[WV]], %[[OV]], %[[N]], %[[H]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[F]],
  // CHECK: %[[Y:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
  %y = meta.conv2d %x, %w strides [2, 2] padding [1, 1] : tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<2x3x3x4xf32>
  // CHECK: memref.alloc() : memref<2x5x5x3xf32>
  // CHECK: call @metac_conv2d_input_grad(
  %dx = meta.conv2d_input_grad %g, %w strides [2, 2] padding [1, 1] : tensor<2x3x3x4xf32>, tensor<3x3x3x4xf32> -> tensor<2x5x5x3xf32>
  // CHECK: memref.alloc() : memref<3x3x3x4xf32>
  // CHECK: call @metac_conv2d_filter_grad(
  %dw = meta.conv2d_filter_grad %x, %g strides [2, 2] padding [1, 1] : tensor<2x5x5x3xf32>, tensor<2x3x3x4xf32> -> tensor<3x3x3x4xf32>
  // CHECK: return %[[Y]]
  return %y, %dx, %dw : tensor<2x3x3x4xf32>, tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32>
}

// Matrix products large enough for blocking (isRuntimeMatmul: every side at
// least 8, m*k*n at least 65536) call Eigen's GEMM; smaller ones stay for
// the generated loops.
// CHECK-LABEL: func @matmul
func.func @matmul(%a: tensor<64x32xf32>, %b: tensor<32x40xf32>,
                  %c: tensor<4x32xf32>) -> (tensor<64x40xf32>, tensor<4x40xf32>) {
  // CHECK: %[[OUT:.*]] = memref.alloc() : memref<64x40xf32>
  // CHECK: %[[M:.*]] = arith.constant 64 : i64
  // CHECK-NEXT: %[[K:.*]] = arith.constant 32 : i64
  // CHECK-NEXT: %[[N:.*]] = arith.constant 40 : i64
  // CHECK: call @metac_matmul(%{{.*}}, %{{.*}}, %{{.*}}, %[[M]], %[[K]], %[[N]])
  %big = meta.matmul %a, %b : tensor<64x32xf32>, tensor<32x40xf32> -> tensor<64x40xf32>
  // CHECK: meta.matmul %{{.*}} : tensor<4x32xf32>, tensor<32x40xf32> -> tensor<4x40xf32>
  %small = meta.matmul %c, %b : tensor<4x32xf32>, tensor<32x40xf32> -> tensor<4x40xf32>
  return %big, %small : tensor<64x40xf32>, tensor<4x40xf32>
}
