// RUN: meta-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(metac-byte-masks))' | FileCheck %s
// Masks passed between linalg ops are stored as bytes; masks anything else
// sees keep their type.

#id = affine_map<(d0, d1) -> (d0, d1)>

// A ReLU mask and its backward pass: the producer extends its bit to a
// byte, the consumer truncates the byte back.
// CHECK-LABEL: func @relu_backward
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x8xi8>
// CHECK: %[[M:.*]] = linalg.generic {{.*}} outs(%[[E]] : tensor<4x8xi8>)
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: i8):
// CHECK: %[[C:.*]] = arith.cmpf ogt
// CHECK: %[[B:.*]] = arith.extui %[[C]] : i1 to i8
// CHECK: linalg.yield %[[B]] : i8
// CHECK: } -> tensor<4x8xi8>
// CHECK: linalg.generic {{.*}} ins(%[[M]], %{{.*}} : tensor<4x8xi8>, tensor<4x8xf32>)
// CHECK: ^bb0(%[[IN:.*]]: i8, %[[G:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[BIT:.*]] = arith.trunci %[[IN]] : i8 to i1
// CHECK: arith.select %[[BIT]], %[[G]]
func.func @relu_backward(%x: tensor<4x8xf32>, %g: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x8xi1>
  %mask = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e1 : tensor<4x8xi1>) {
  ^bb0(%in: f32, %out: i1):
    %c = arith.cmpf ogt, %in, %zero : f32
    linalg.yield %c : i1
  } -> tensor<4x8xi1>
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mask, %g : tensor<4x8xi1>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%m: i1, %in: f32, %out: f32):
    %s = arith.select %m, %in, %zero : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A mask the function returns keeps i1: its type is the caller's.
// CHECK-LABEL: func @returned
// CHECK-NOT: i8
// CHECK: return %{{.*}} : tensor<4x8xi1>
func.func @returned(%x: tensor<4x8xf32>) -> tensor<4x8xi1> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x8xi1>
  %mask = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e1 : tensor<4x8xi1>) {
  ^bb0(%in: f32, %out: i1):
    %c = arith.cmpf ogt, %in, %zero : f32
    linalg.yield %c : i1
  } -> tensor<4x8xi1>
  return %mask : tensor<4x8xi1>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A producer that reads its output (an accumulation into an existing mask)
// keeps i1.
// CHECK-LABEL: func @reads_output
// CHECK-NOT: i8
func.func @reads_output(%x: tensor<4x8xf32>, %old: tensor<4x8xi1>, %g: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %mask = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%old : tensor<4x8xi1>) {
  ^bb0(%in: f32, %out: i1):
    %c = arith.cmpf ogt, %in, %zero : f32
    %o = arith.ori %c, %out : i1
    linalg.yield %o : i1
  } -> tensor<4x8xi1>
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mask, %g : tensor<4x8xi1>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%m: i1, %in: f32, %out: f32):
    %s = arith.select %m, %in, %zero : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// The whole pipeline: the sinusoid network's ReLU masks are loaded as byte
// vectors, none as single bits (without this pass: 32 scalar i1 loads, no
// byte vectors).
// RUN: metac -emit=llvm %metac_src/examples/maml_sinusoid.meta | FileCheck %s --check-prefix=LLVM --implicit-check-not='load i1'
// LLVM: load <{{[0-9]+}} x i8>
