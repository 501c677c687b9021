// RUN: meta-opt %s -meta-autodiff -canonicalize -cse | FileCheck %s
// -meta-autodiff expands meta.grad into reverse-mode code; these show the
// IR before (input) and after (CHECK lines) for typical rules.

// d/dx sin(x) = cos(x): the seed 1 folds away.
// CHECK-LABEL: func @sin
// CHECK-NEXT: %[[C:.*]] = meta.cos %arg0 : tensor<f32>
// CHECK-NEXT: return %[[C]]
func.func @sin(%w: tensor<f32>) -> tensor<f32> {
  %g = meta.grad %w : (tensor<f32>) -> tensor<f32> {
  ^bb0(%x: tensor<f32>):
    %y = meta.sin %x : tensor<f32>
    meta.yield %y : tensor<f32>
  }
  return %g : tensor<f32>
}

// d/dW sum(X W) = Xᵀ 1: the matmul rule emits a transpose of X.
// CHECK-LABEL: func @matmul
// CHECK: %[[T:.*]] = meta.transpose %arg1, [1, 0] : tensor<4x2xf32> -> tensor<2x4xf32>
// CHECK: %[[G:.*]] = meta.matmul %[[T]], %{{.*}} : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
// CHECK: return %[[G]]
func.func @matmul(%w: tensor<2x3xf32>, %x: tensor<4x2xf32>) -> tensor<2x3xf32> {
  %g = meta.grad %w : (tensor<2x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%v: tensor<2x3xf32>):
    %h = meta.matmul %x, %v : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
    %s = meta.reduce_sum %h, [0, 1] : tensor<4x3xf32> -> tensor<f32>
    meta.yield %s : tensor<f32>
  }
  return %g : tensor<2x3xf32>
}

// stop_gradient blocks the path through it: d/dx (x * sg(x)) = sg(x) only.
// CHECK-LABEL: func @stop_gradient
// CHECK-NEXT: %[[S:.*]] = meta.stop_gradient %arg0
// CHECK-NEXT: return %[[S]]
func.func @stop_gradient(%w: tensor<f32>) -> tensor<f32> {
  %g = meta.grad %w : (tensor<f32>) -> tensor<f32> {
  ^bb0(%x: tensor<f32>):
    %s = meta.stop_gradient %x : tensor<f32>
    %y = meta.mul %x, %s : tensor<f32>
    meta.yield %y : tensor<f32>
  }
  return %g : tensor<f32>
}

// An argument the scalar does not depend on gets a zero gradient.
// CHECK-LABEL: func @unused
// CHECK: %[[Z:.*]] = meta.constant dense<0.000000e+00> : tensor<3xf32>
// CHECK: return %{{.*}}, %[[Z]]
func.func @unused(%a: tensor<f32>, %b: tensor<3xf32>) -> (tensor<f32>, tensor<3xf32>) {
  %g:2 = meta.grad %a, %b : (tensor<f32>, tensor<3xf32>) -> (tensor<f32>, tensor<3xf32>) {
  ^bb0(%x: tensor<f32>, %y: tensor<3xf32>):
    %e = meta.exp %x : tensor<f32>
    meta.yield %e : tensor<f32>
  }
  return %g#0, %g#1 : tensor<f32>, tensor<3xf32>
}

// Second order: the inner expansion is differentiated again by the outer
// grad. d/dw (d/dx sin(x) at w) = d/dw cos(w) = -sin(w).
// CHECK-LABEL: func @second_order
// CHECK-NOT: meta.grad
// CHECK: %[[S:.*]] = meta.sin %arg0
// CHECK: %[[N:.*]] = meta.neg %[[S]]
// CHECK: return %[[N]]
func.func @second_order(%w: tensor<f32>) -> tensor<f32> {
  %gg = meta.grad %w : (tensor<f32>) -> tensor<f32> {
  ^bb0(%x: tensor<f32>):
    %g = meta.grad %x : (tensor<f32>) -> tensor<f32> {
    ^bb0(%y: tensor<f32>):
      %s = meta.sin %y : tensor<f32>
      meta.yield %s : tensor<f32>
    }
    meta.yield %g : tensor<f32>
  }
  return %gg : tensor<f32>
}

// A value captured from above is a constant of the inner differentiation
// even when it is the operand itself: d/dx (x * w) at x = w is w, not 2w.
// CHECK-LABEL: func @capture
// CHECK-NEXT: return %arg0
func.func @capture(%w: tensor<f32>) -> tensor<f32> {
  %g = meta.grad %w : (tensor<f32>) -> tensor<f32> {
  ^bb0(%x: tensor<f32>):
    %y = meta.mul %x, %w : tensor<f32>
    meta.yield %y : tensor<f32>
  }
  return %g : tensor<f32>
}
