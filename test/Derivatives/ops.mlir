// RUN: meta-fdcheck %s | FileCheck %s
// Every differentiable op of the meta dialect: its first derivative and its
// second (a Hessian-vector product through a nested meta.grad) against
// central finite differences in double precision (meta-fdcheck). Each
// function is made scalar by a weighted sum so that every output element
// contributes with a different weight.

// CHECK: neg: first order {{.*}}: ok
func.func @neg(%x: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.neg %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: sin: first order {{.*}}: ok
func.func @sin(%x: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.sin %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: cos: first order {{.*}}: ok
func.func @cos(%x: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.cos %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: exp: first order {{.*}}: ok
func.func @exp(%x: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.exp %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: log: first order {{.*}}: ok
func.func @log(%x: tensor<2x3xf32>) -> tensor<f32> attributes {fdcheck.range = [0.2, 3.0]} {
  %y = meta.log %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: tanh: first order {{.*}}: ok
func.func @tanh(%x: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.tanh %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: sigmoid: first order {{.*}}: ok
func.func @sigmoid(%x: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.sigmoid %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: relu: first order {{.*}}: ok
func.func @relu(%x: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.relu %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: sqrt: first order {{.*}}: ok
func.func @sqrt(%x: tensor<2x3xf32>) -> tensor<f32> attributes {fdcheck.range = [0.2, 3.0]} {
  %y = meta.sqrt %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: abs: first order {{.*}}: ok
func.func @abs(%x: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.abs %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: square: first order {{.*}}: ok
func.func @square(%x: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.square %x : tensor<2x3xf32>
  %z = meta.mul %y, %x : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: add: first order {{.*}}: ok
func.func @add(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.add %a, %b : tensor<2x3xf32>
  %z = meta.mul %y, %y : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: sub: first order {{.*}}: ok
func.func @sub(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.sub %a, %b : tensor<2x3xf32>
  %z = meta.mul %y, %y : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: mul: first order {{.*}}: ok
func.func @mul(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.mul %a, %b : tensor<2x3xf32>
  %z = meta.mul %y, %y : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: div: first order {{.*}}: ok
func.func @div(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<f32> attributes {fdcheck.range = [0.5, 2.0]} {
  %y = meta.div %a, %b : tensor<2x3xf32>
  %z = meta.mul %y, %y : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: max: first order {{.*}}: ok
func.func @max(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.max %a, %b : tensor<2x3xf32>
  %z = meta.mul %y, %y : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: min: first order {{.*}}: ok
func.func @min(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<f32> {
  %y = meta.min %a, %b : tensor<2x3xf32>
  %z = meta.mul %y, %y : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}
// CHECK: select: first order {{.*}}: ok
func.func @select(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<f32> {
  %c = meta.cmp "gt", %a, %b : tensor<2x3xf32> -> tensor<2x3xi1>
  %y = meta.select %c, %a, %b : tensor<2x3xi1>, tensor<2x3xf32>
  %z = meta.mul %y, %a : tensor<2x3xf32>
  %w = meta.constant dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : tensor<2x3xf32>
  %p = meta.mul %z, %w : tensor<2x3xf32>
  %s = meta.reduce_sum %p, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// sign is piecewise constant: f = sum(x^2 sign(x)) has f' = 2x sign(x).
// (stop_gradient deliberately disagrees with finite differences; its rule is
// tested in test/Autodiff/meta-autodiff.mlir.)
// CHECK: sign: first order {{.*}}: ok
func.func @sign(%x: tensor<2x3xf32>) -> tensor<f32> {
  %s = meta.sign %x : tensor<2x3xf32>
  %a = meta.mul %x, %s : tensor<2x3xf32>
  %b = meta.mul %a, %x : tensor<2x3xf32>
  %r = meta.reduce_sum %b, [0, 1] : tensor<2x3xf32> -> tensor<f32>
  return %r : tensor<f32>
}

// CHECK: matmul: first order {{.*}}: ok
func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<f32> {
  %m = meta.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %t = meta.tanh %m : tensor<2x4xf32>
  %s = meta.reduce_sum %t, [0, 1] : tensor<2x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: transpose: first order {{.*}}: ok
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<f32> {
  %t = meta.transpose %x, [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %w = meta.constant dense<[0.5, -1.0, 2.0]> : tensor<3xf32>
  %wb = meta.broadcast %w : tensor<3xf32> -> tensor<4x2x3xf32>
  %p = meta.mul %t, %wb : tensor<4x2x3xf32>
  %q = meta.mul %p, %t : tensor<4x2x3xf32>
  %s = meta.reduce_sum %q, [0, 1, 2] : tensor<4x2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: reshape: first order {{.*}}: ok
func.func @reshape(%x: tensor<2x3xf32>) -> tensor<f32> {
  %r = meta.reshape %x : tensor<2x3xf32> -> tensor<3x2xf32>
  %w = meta.constant dense<[[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]]> : tensor<3x2xf32>
  %p = meta.mul %r, %w : tensor<3x2xf32>
  %e = meta.exp %p : tensor<3x2xf32>
  %s = meta.reduce_sum %e, [0, 1] : tensor<3x2xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: broadcast: first order {{.*}}: ok
func.func @broadcast(%x: tensor<3x1xf32>) -> tensor<f32> {
  %b = meta.broadcast %x : tensor<3x1xf32> -> tensor<2x3x4xf32>
  %w = meta.constant dense<[0.5, -1.0, 2.0, 1.0]> : tensor<4xf32>
  %wb = meta.broadcast %w : tensor<4xf32> -> tensor<2x3x4xf32>
  %p = meta.mul %b, %wb : tensor<2x3x4xf32>
  %q = meta.sin %p : tensor<2x3x4xf32>
  %s = meta.reduce_sum %q, [0, 1, 2] : tensor<2x3x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: reduce_sum: first order {{.*}}: ok
func.func @reduce_sum(%x: tensor<2x3x4xf32>) -> tensor<f32> {
  %r = meta.reduce_sum %x, [1] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  %q = meta.square %r : tensor<2x4xf32>
  %c = meta.cos %q : tensor<2x4xf32>
  %s = meta.reduce_sum %c, [0, 1] : tensor<2x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: slice_pad: first order {{.*}}: ok
func.func @slice_pad(%x: tensor<4x3xf32>) -> tensor<f32> {
  %s = meta.slice %x, [1, 1] : tensor<4x3xf32> -> tensor<2x2xf32>
  %p = meta.pad %s, [2, 0] : tensor<2x2xf32> -> tensor<5x2xf32>
  %q = meta.square %p : tensor<5x2xf32>
  %e = meta.exp %q : tensor<5x2xf32>
  %r = meta.reduce_sum %e, [0, 1] : tensor<5x2xf32> -> tensor<f32>
  return %r : tensor<f32>
}

// A constant contributes no derivative.
// CHECK: constant: first order {{.*}}: ok
func.func @constant(%x: tensor<3xf32>) -> tensor<f32> {
  %c = meta.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %m = meta.mul %x, %c : tensor<3xf32>
  %q = meta.mul %m, %x : tensor<3xf32>
  %r = meta.reduce_sum %q, [0] : tensor<3xf32> -> tensor<f32>
  return %r : tensor<f32>
}


// CHECK: reduce_max: first order {{.*}}: ok
func.func @reduce_max(%x: tensor<3x4xf32>) -> tensor<f32> {
  %t = meta.tanh %x : tensor<3x4xf32>
  %q = meta.mul %t, %x : tensor<3x4xf32>
  %m = meta.reduce_max %q, [1] : tensor<3x4xf32> -> tensor<3xf32>
  %s = meta.square %m : tensor<3xf32>
  %r = meta.reduce_sum %s, [0] : tensor<3xf32> -> tensor<f32>
  return %r : tensor<f32>
}

// Strided and padded, so the input gradient's spread and crop are exercised.
// CHECK: conv2d: first order {{.*}}: ok
func.func @conv2d(%x: tensor<2x5x5x2xf32>, %w: tensor<3x3x2x3xf32>) -> tensor<f32> {
  %y = meta.conv2d %x, %w strides [2, 2] padding [1, 1] : tensor<2x5x5x2xf32>, tensor<3x3x2x3xf32> -> tensor<2x3x3x3xf32>
  %t = meta.tanh %y : tensor<2x3x3x3xf32>
  %s = meta.reduce_sum %t, [0, 1, 2, 3] : tensor<2x3x3x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// Different strides and padding per dimension, a non-square kernel.
// CHECK: conv2d_rect: first order {{.*}}: ok
func.func @conv2d_rect(%x: tensor<1x4x5x2xf32>, %w: tensor<2x3x2x2xf32>) -> tensor<f32> {
  %y = meta.conv2d %x, %w strides [1, 2] padding [0, 1] : tensor<1x4x5x2xf32>, tensor<2x3x2x2xf32> -> tensor<1x3x3x2xf32>
  %t = meta.sin %y : tensor<1x3x3x2xf32>
  %s = meta.reduce_sum %t, [0, 1, 2, 3] : tensor<1x3x3x2xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// An even image with stride 2: the last row and column meet no window's
// centre, the rounding the result type records.
// CHECK: conv2d_input_grad: first order {{.*}}: ok
func.func @conv2d_input_grad(%g: tensor<1x3x3x2xf32>, %w: tensor<3x3x3x2xf32>) -> tensor<f32> {
  %y = meta.conv2d_input_grad %g, %w strides [2, 2] padding [1, 1] : tensor<1x3x3x2xf32>, tensor<3x3x3x2xf32> -> tensor<1x6x6x3xf32>
  %t = meta.tanh %y : tensor<1x6x6x3xf32>
  %s = meta.reduce_sum %t, [0, 1, 2, 3] : tensor<1x6x6x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: conv2d_filter_grad: first order {{.*}}: ok
func.func @conv2d_filter_grad(%x: tensor<2x5x5x2xf32>, %g: tensor<2x3x3x3xf32>) -> tensor<f32> {
  %y = meta.conv2d_filter_grad %x, %g strides [2, 2] padding [1, 1] : tensor<2x5x5x2xf32>, tensor<2x3x3x3xf32> -> tensor<3x3x2x3xf32>
  %t = meta.tanh %y : tensor<3x3x2x3xf32>
  %s = meta.reduce_sum %t, [0, 1, 2, 3] : tensor<3x3x2x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// max_pool(x) = max_pool_gather(x, x); the odd height leaves a row out.
// CHECK: max_pool: first order {{.*}}: ok
func.func @max_pool(%x: tensor<1x5x4x2xf32>) -> tensor<f32> {
  %p = meta.max_pool_gather %x, %x window [2, 2] : tensor<1x5x4x2xf32> -> tensor<1x2x2x2xf32>
  %t = meta.tanh %p : tensor<1x2x2x2xf32>
  %q = meta.mul %t, %p : tensor<1x2x2x2xf32>
  %s = meta.reduce_sum %q, [0, 1, 2, 3] : tensor<1x2x2x2xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK: max_pool_scatter: first order {{.*}}: ok
func.func @max_pool_scatter(%x: tensor<1x5x4x2xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<f32> {
  %y = meta.max_pool_scatter %x, %g window [2, 2] : tensor<1x2x2x2xf32> -> tensor<1x5x4x2xf32>
  %t = meta.tanh %y : tensor<1x5x4x2xf32>
  %q = meta.mul %t, %x : tensor<1x5x4x2xf32>
  %s = meta.reduce_sum %q, [0, 1, 2, 3] : tensor<1x5x4x2xf32> -> tensor<f32>
  return %s : tensor<f32>
}
