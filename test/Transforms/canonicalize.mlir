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

// The transpose of a product by a transposed right side is the product the
// other way round: (W X^T)^T = X W^T, a wide row-update product instead of
// dot products and a transposed read. Only when the right side is a
// transpose (one transpose goes away) and nothing else reads the product.
// CHECK-LABEL: func @transpose_of_product
// CHECK-NEXT: %[[WT:.*]] = meta.transpose %arg0, [1, 0] : tensor<40x24xf32> -> tensor<24x40xf32>
// CHECK-NEXT: %[[P:.*]] = meta.matmul %arg1, %[[WT]] : tensor<10x24xf32>, tensor<24x40xf32> -> tensor<10x40xf32>
// CHECK-NEXT: return %[[P]]
func.func @transpose_of_product(%w: tensor<40x24xf32>, %x: tensor<10x24xf32>) -> tensor<10x40xf32> {
  %xt = meta.transpose %x, [1, 0] : tensor<10x24xf32> -> tensor<24x10xf32>
  %p = meta.matmul %w, %xt : tensor<40x24xf32>, tensor<24x10xf32> -> tensor<40x10xf32>
  %r = meta.transpose %p, [1, 0] : tensor<40x10xf32> -> tensor<10x40xf32>
  return %r : tensor<10x40xf32>
}

// CHECK-LABEL: func @product_kept
// CHECK: meta.matmul %arg0, %arg1 : tensor<4x3xf32>, tensor<3x2xf32>
// CHECK: meta.transpose
// CHECK: meta.matmul %arg0, %{{.*}} : tensor<4x3xf32>, tensor<3x2xf32>
// CHECK: meta.transpose
func.func @product_kept(%a: tensor<4x3xf32>, %b: tensor<3x2xf32>, %c: tensor<2x3xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4x2xf32>) {
  // The right side is not a transpose: nothing to gain.
  %p = meta.matmul %a, %b : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  %r = meta.transpose %p, [1, 0] : tensor<4x2xf32> -> tensor<2x4xf32>
  // The product has another reader.
  %ct = meta.transpose %c, [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %q = meta.matmul %a, %ct : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  %s = meta.transpose %q, [1, 0] : tensor<4x2xf32> -> tensor<2x4xf32>
  return %r, %s, %q : tensor<2x4xf32>, tensor<2x4xf32>, tensor<4x2xf32>
}
