// RUN: meta-opt %s -canonicalize | FileCheck %s
// The folds that clean up what reverse mode produces.

// CHECK-LABEL: func @identities
// CHECK-NEXT: return %arg0
func.func @identities(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %one = meta.constant dense<1.0> : tensor<2x3xf32>
  %zero = meta.constant dense<0.0> : tensor<2x3xf32>
  %0 = meta.mul %x, %one : tensor<2x3xf32>
  %1 = meta.add %0, %zero : tensor<2x3xf32>
  %2 = meta.sub %1, %zero : tensor<2x3xf32>
  %3 = meta.div %2, %one : tensor<2x3xf32>
  %4 = meta.neg %3 : tensor<2x3xf32>
  %5 = meta.neg %4 : tensor<2x3xf32>
  %6 = meta.transpose %5, [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %7 = meta.transpose %6, [1, 0] : tensor<3x2xf32> -> tensor<2x3xf32>
  return %7 : tensor<2x3xf32>
}

// Zero cotangents vanish through products, matmuls, broadcasts and pads.
// CHECK-LABEL: func @zeros
// CHECK-NEXT: %[[Z:.*]] = meta.constant dense<0.000000e+00> : tensor<4x3xf32>
// CHECK-NEXT: return %[[Z]]
func.func @zeros(%x: tensor<4x2xf32>, %y: tensor<3xf32>) -> tensor<4x3xf32> {
  %z = meta.constant dense<0.0> : tensor<2x3xf32>
  %0 = meta.matmul %x, %z : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  %b = meta.broadcast %y : tensor<3xf32> -> tensor<4x3xf32>
  %1 = meta.mul %0, %b : tensor<4x3xf32>
  return %1 : tensor<4x3xf32>
}

// Splat constants fold through elementwise ops and reductions.
// CHECK-LABEL: func @splats
// CHECK-NEXT: %[[C:.*]] = meta.constant dense<1.200000e+01> : tensor<f32>
// CHECK-NEXT: return %[[C]]
func.func @splats() -> tensor<f32> {
  %a = meta.constant dense<2.0> : tensor<2x3xf32>
  %b = meta.square %a : tensor<2x3xf32>
  %c = meta.sqrt %b : tensor<2x3xf32>
  %s = meta.reduce_sum %c, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// Reshape chains collapse, and same-type shape ops disappear.
// CHECK-LABEL: func @shapes
// CHECK-NEXT: %[[R:.*]] = meta.reshape %arg0 : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK-NEXT: return %[[R]]
func.func @shapes(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = meta.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %1 = meta.reshape %0 : tensor<6xf32> -> tensor<3x2xf32>
  %2 = meta.broadcast %1 : tensor<3x2xf32> -> tensor<3x2xf32>
  return %2 : tensor<3x2xf32>
}
