// RUN: meta-opt %s -split-input-file -verify-diagnostics
// Every verifier message of the meta dialect.

func.func @matmul_contract(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{contracting dimensions differ: 3 vs 4}}
  %0 = meta.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+1 {{result must be 2x5}}
  %0 = meta.matmul %a, %b : tensor<2x3xf32>, tensor<3x5xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+1 {{operands and result must be 2-D}}
  %0 = meta.matmul %a, %b : tensor<3xf32>, tensor<3x5xf32> -> tensor<1x5xf32>
  return
}

// -----

func.func @transpose_perm(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{invalid permutation}}
  %0 = meta.transpose %a, [0, 0] : tensor<2x3xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @transpose_shape(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{result dimension 0 must be 3}}
  %0 = meta.transpose %a, [1, 0] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{element count changes from 6 to 8}}
  %0 = meta.reshape %a : tensor<2x3xf32> -> tensor<8xf32>
  return
}

// -----

func.func @broadcast_dim(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{dimension 1 of size 3 cannot broadcast to 4}}
  %0 = meta.broadcast %a : tensor<2x3xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @broadcast_rank(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{cannot broadcast to a lower rank}}
  %0 = meta.broadcast %a : tensor<2x3xf32> -> tensor<3xf32>
  return
}

// -----

func.func @reduce_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 out of range}}
  %0 = meta.reduce_sum %a, [2] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_order(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axes must be strictly increasing}}
  %0 = meta.reduce_sum %a, [1, 0] : tensor<2x3xf32> -> tensor<f32>
  return
}

// -----

func.func @reduce_shape(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{result shape does not match the reduced input shape}}
  %0 = meta.reduce_sum %a, [0] : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @slice_bounds(%a: tensor<8xf32>) {
  // expected-error @+1 {{window out of bounds in dimension 0}}
  %0 = meta.slice %a, [6] : tensor<8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @pad_rank(%a: tensor<2xf32>) {
  // expected-error @+1 {{operand, result and offsets must have one rank}}
  %0 = meta.pad %a, [0] : tensor<2xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @cmp_predicate(%a: tensor<2xf32>) {
  // expected-error @+1 {{unknown predicate 'gte'}}
  %0 = meta.cmp "gte", %a, %a : tensor<2xf32> -> tensor<2xi1>
  return
}

// -----

func.func @cmp_shape(%a: tensor<2xf32>) {
  // expected-error @+1 {{result shape must match the operands'}}
  %0 = meta.cmp "lt", %a, %a : tensor<2xf32> -> tensor<3xi1>
  return
}

// -----

func.func @select_shape(%c: tensor<3xi1>, %a: tensor<2xf32>) {
  // expected-error @+1 {{condition shape must match the result's}}
  %0 = meta.select %c, %a, %a : tensor<3xi1>, tensor<2xf32>
  return
}

// -----

func.func @grad_result_type(%w: tensor<3xf32>) {
  // expected-error @+1 {{each gradient must have its operand's type}}
  %g = "meta.grad"(%w) ({
  ^bb0(%x: tensor<3xf32>):
    %s = meta.reduce_sum %x, [0] : tensor<3xf32> -> tensor<f32>
    meta.yield %s : tensor<f32>
  }) : (tensor<3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @grad_region_args(%w: tensor<3xf32>) {
  // expected-error @+1 {{region must take one argument per operand}}
  %g = "meta.grad"(%w) ({
  ^bb0:
    %s = meta.constant dense<1.0> : tensor<f32>
    meta.yield %s : tensor<f32>
  }) : (tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @yield_scalar(%w: tensor<3xf32>) {
  %g = meta.grad %w : (tensor<3xf32>) -> tensor<3xf32> {
  ^bb0(%x: tensor<3xf32>):
    // expected-error @+1 {{operand #0 must be 0D tensor of 32-bit float values}}
    meta.yield %x : tensor<3xf32>
  }
  return
}

// -----

func.func @yield_outside() {
  %s = meta.constant dense<1.0> : tensor<f32>
  // expected-error @+1 {{expects parent op 'meta.grad'}}
  meta.yield %s : tensor<f32>
}

// -----

func.func @constant_type() {
  // expected-error @+1 {{value must be a tensor of f32}}
  %0 = "meta.constant"() {value = dense<1> : tensor<2xi32>} : () -> tensor<2xf32>
  return
}

// -----

func.func @reduce_max_no_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{needs at least one axis}}
  %0 = meta.reduce_max %a, [] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_max_shape(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{result shape does not match the reduced input shape}}
  %0 = meta.reduce_max %a, [1] : tensor<2x3xf32> -> tensor<3xf32>
  return
}

// -----

func.func @conv_rank(%x: tensor<5x5x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{image, filter and output must be 4-D}}
  %0 = meta.conv2d %x, %w strides [1, 1] padding [0, 0] : tensor<5x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<1x3x3x4xf32>
  return
}

// -----

func.func @conv_attrs(%x: tensor<1x5x5x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{strides and padding need two entries (H, W)}}
  %0 = meta.conv2d %x, %w strides [1] padding [0, 0] : tensor<1x5x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<1x3x3x4xf32>
  return
}

// -----

func.func @conv_batch(%x: tensor<1x5x5x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{image and output batch sizes differ}}
  %0 = meta.conv2d %x, %w strides [1, 1] padding [0, 0] : tensor<1x5x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<2x3x3x4xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x5x5x2xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{image has 2 channels but the filter expects 3}}
  %0 = meta.conv2d %x, %w strides [1, 1] padding [0, 0] : tensor<1x5x5x2xf32>, tensor<3x3x3x4xf32> -> tensor<1x3x3x4xf32>
  return
}

// -----

func.func @conv_filters(%g: tensor<1x3x3x5xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{filter has 4 output channels but the output has 5}}
  %0 = meta.conv2d_input_grad %g, %w strides [1, 1] padding [0, 0] : tensor<1x3x3x5xf32>, tensor<3x3x3x4xf32> -> tensor<1x5x5x3xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<1x5x5x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{strides must be positive}}
  %0 = meta.conv2d %x, %w strides [0, 1] padding [0, 0] : tensor<1x5x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<1x3x3x4xf32>
  return
}

// -----

func.func @conv_padding(%x: tensor<1x5x5x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{padding must be in [0, kernel size)}}
  %0 = meta.conv2d %x, %w strides [1, 1] padding [3, 0] : tensor<1x5x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<1x9x3x4xf32>
  return
}

// -----

func.func @conv_kernel(%x: tensor<1x2x5x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{kernel larger than the padded image}}
  %0 = meta.conv2d %x, %w strides [1, 1] padding [0, 0] : tensor<1x2x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<1x1x3x4xf32>
  return
}

// -----

func.func @conv_output(%x: tensor<1x5x5x3xf32>, %g: tensor<1x3x3x4xf32>) {
  // expected-error @+1 {{output size 3 in dimension 1 should be 2}}
  %0 = meta.conv2d_filter_grad %x, %g strides [2, 2] padding [0, 0] : tensor<1x5x5x3xf32>, tensor<1x3x3x4xf32> -> tensor<3x3x3x4xf32>
  return
}

// -----

func.func @pool_window(%x: tensor<1x4x4x2xf32>) {
  // expected-error @+1 {{window must be two positive sizes}}
  %0 = meta.max_pool_gather %x, %x window [0, 2] : tensor<1x4x4x2xf32> -> tensor<1x4x2x2xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<4x4x2xf32>) {
  // expected-error @+1 {{image and pooled tensors must be 4-D (NHWC)}}
  %0 = meta.max_pool_gather %x, %x window [2, 2] : tensor<4x4x2xf32> -> tensor<2x2x2xf32>
  return
}

// -----

func.func @pool_large(%x: tensor<1x1x4x2xf32>) {
  // expected-error @+1 {{window larger than the image}}
  %0 = meta.max_pool_gather %x, %x window [2, 2] : tensor<1x1x4x2xf32> -> tensor<1x0x2x2xf32>
  return
}

// -----

func.func @pool_shape(%x: tensor<1x5x4x2xf32>, %g: tensor<1x3x2x2xf32>) {
  // expected-error @+1 {{pooled shape must be [N, H / 2, W / 2, C]}}
  %0 = meta.max_pool_scatter %x, %g window [2, 2] : tensor<1x3x2x2xf32> -> tensor<1x5x4x2xf32>
  return
}
