// RUN: meta-opt %s | meta-opt | FileCheck %s
// Every op of the meta dialect prints and parses back to itself.

// CHECK-LABEL: func @elementwise
func.func @elementwise(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: meta.add %{{.*}}, %{{.*}} : tensor<2x3xf32>
  %0 = meta.add %a, %b : tensor<2x3xf32>
  // CHECK: meta.sub
  %1 = meta.sub %0, %b : tensor<2x3xf32>
  // CHECK: meta.mul
  %2 = meta.mul %1, %b : tensor<2x3xf32>
  // CHECK: meta.div
  %3 = meta.div %2, %b : tensor<2x3xf32>
  // CHECK: meta.max
  %4 = meta.max %3, %b : tensor<2x3xf32>
  // CHECK: meta.min
  %5 = meta.min %4, %b : tensor<2x3xf32>
  // CHECK: meta.neg
  %6 = meta.neg %5 : tensor<2x3xf32>
  // CHECK: meta.sin
  %7 = meta.sin %6 : tensor<2x3xf32>
  // CHECK: meta.cos
  %8 = meta.cos %7 : tensor<2x3xf32>
  // CHECK: meta.exp
  %9 = meta.exp %8 : tensor<2x3xf32>
  // CHECK: meta.log
  %10 = meta.log %9 : tensor<2x3xf32>
  // CHECK: meta.tanh
  %11 = meta.tanh %10 : tensor<2x3xf32>
  // CHECK: meta.sigmoid
  %12 = meta.sigmoid %11 : tensor<2x3xf32>
  // CHECK: meta.relu
  %13 = meta.relu %12 : tensor<2x3xf32>
  // CHECK: meta.sqrt
  %14 = meta.sqrt %13 : tensor<2x3xf32>
  // CHECK: meta.abs
  %15 = meta.abs %14 : tensor<2x3xf32>
  // CHECK: meta.square
  %16 = meta.square %15 : tensor<2x3xf32>
  // CHECK: meta.sign
  %17 = meta.sign %16 : tensor<2x3xf32>
  // CHECK: meta.stop_gradient
  %18 = meta.stop_gradient %17 : tensor<2x3xf32>
  // CHECK: meta.cmp "gt", %{{.*}}, %{{.*}} : tensor<2x3xf32> -> tensor<2x3xi1>
  %c = meta.cmp "gt", %18, %a : tensor<2x3xf32> -> tensor<2x3xi1>
  // CHECK: meta.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xi1>, tensor<2x3xf32>
  %19 = meta.select %c, %18, %a : tensor<2x3xi1>, tensor<2x3xf32>
  return %19 : tensor<2x3xf32>
}

// CHECK-LABEL: func @structure
func.func @structure(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %v: tensor<4xf32>) -> tensor<f32> {
  // CHECK: meta.matmul %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %0 = meta.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  // CHECK: meta.transpose %{{.*}}, [1, 0] : tensor<2x4xf32> -> tensor<4x2xf32>
  %1 = meta.transpose %0, [1, 0] : tensor<2x4xf32> -> tensor<4x2xf32>
  // CHECK: meta.reshape %{{.*}} : tensor<4x2xf32> -> tensor<8xf32>
  %2 = meta.reshape %1 : tensor<4x2xf32> -> tensor<8xf32>
  // CHECK: meta.broadcast %{{.*}} : tensor<4xf32> -> tensor<2x4xf32>
  %3 = meta.broadcast %v : tensor<4xf32> -> tensor<2x4xf32>
  // CHECK: meta.slice %{{.*}}, [2] : tensor<8xf32> -> tensor<4xf32>
  %4 = meta.slice %2, [2] : tensor<8xf32> -> tensor<4xf32>
  // CHECK: meta.pad %{{.*}}, [1, 0] : tensor<2x4xf32> -> tensor<3x4xf32>
  %5 = meta.pad %3, [1, 0] : tensor<2x4xf32> -> tensor<3x4xf32>
  // CHECK: meta.reduce_sum %{{.*}}, [0, 1] : tensor<3x4xf32> -> tensor<f32>
  %6 = meta.reduce_sum %5, [0, 1] : tensor<3x4xf32> -> tensor<f32>
  // CHECK: meta.constant dense<2.000000e+00> : tensor<f32>
  %7 = meta.constant dense<2.0> : tensor<f32>
  %8 = meta.mul %6, %7 : tensor<f32>
  return %8 : tensor<f32>
}

// CHECK-LABEL: func @random
func.func @random(%key: tensor<i64>) -> (tensor<10x1xf32>, tensor<3xf32>) {
  // CHECK: meta.random_uniform %{{.*}}, 0 : tensor<i64> -> tensor<10x1xf32>
  %0 = meta.random_uniform %key, 0 : tensor<i64> -> tensor<10x1xf32>
  // CHECK: meta.random_normal %{{.*}}, 1 : tensor<i64> -> tensor<3xf32>
  %1 = meta.random_normal %key, 1 : tensor<i64> -> tensor<3xf32>
  return %0, %1 : tensor<10x1xf32>, tensor<3xf32>
}

// CHECK-LABEL: func @gradient
func.func @gradient(%w: tensor<3xf32>) -> tensor<3xf32> {
  // CHECK: meta.grad %{{.*}} : (tensor<3xf32>) -> tensor<3xf32> {
  // CHECK: ^bb0(%{{.*}}: tensor<3xf32>):
  // CHECK: meta.yield %{{.*}} : tensor<f32>
  %g = meta.grad %w : (tensor<3xf32>) -> tensor<3xf32> {
  ^bb0(%x: tensor<3xf32>):
    %s = meta.reduce_sum %x, [0] : tensor<3xf32> -> tensor<f32>
    meta.yield %s : tensor<f32>
  }
  return %g : tensor<3xf32>
}

// CHECK-LABEL: func @images
func.func @images(%x: tensor<2x5x5x3xf32>, %w: tensor<3x3x3x4xf32>,
                  %g: tensor<2x3x3x4xf32>) -> tensor<2x4xf32> {
  // CHECK: meta.conv2d %{{.*}}, %{{.*}} strides [2, 2] padding [1, 1] : tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<2x3x3x4xf32>
  %y = meta.conv2d %x, %w strides [2, 2] padding [1, 1] : tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<2x3x3x4xf32>
  // CHECK: meta.conv2d_input_grad %{{.*}}, %{{.*}} strides [2, 2] padding [1, 1] : tensor<2x3x3x4xf32>, tensor<3x3x3x4xf32> -> tensor<2x5x5x3xf32>
  %dx = meta.conv2d_input_grad %g, %w strides [2, 2] padding [1, 1] : tensor<2x3x3x4xf32>, tensor<3x3x3x4xf32> -> tensor<2x5x5x3xf32>
  // CHECK: meta.conv2d_filter_grad %{{.*}}, %{{.*}} strides [2, 2] padding [1, 1] : tensor<2x5x5x3xf32>, tensor<2x3x3x4xf32> -> tensor<3x3x3x4xf32>
  %dw = meta.conv2d_filter_grad %dx, %g strides [2, 2] padding [1, 1] : tensor<2x5x5x3xf32>, tensor<2x3x3x4xf32> -> tensor<3x3x3x4xf32>
  // CHECK: meta.max_pool_gather %{{.*}}, %{{.*}} window [2, 2] : tensor<2x3x3x4xf32> -> tensor<2x1x1x4xf32>
  %p = meta.max_pool_gather %y, %y window [2, 2] : tensor<2x3x3x4xf32> -> tensor<2x1x1x4xf32>
  // CHECK: meta.max_pool_scatter %{{.*}}, %{{.*}} window [2, 2] : tensor<2x1x1x4xf32> -> tensor<2x3x3x4xf32>
  %s = meta.max_pool_scatter %y, %p window [2, 2] : tensor<2x1x1x4xf32> -> tensor<2x3x3x4xf32>
  // CHECK: meta.reduce_max %{{.*}}, [1, 2] : tensor<2x3x3x4xf32> -> tensor<2x4xf32>
  %m = meta.reduce_max %s, [1, 2] : tensor<2x3x3x4xf32> -> tensor<2x4xf32>
  return %m : tensor<2x4xf32>
}
