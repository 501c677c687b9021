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
