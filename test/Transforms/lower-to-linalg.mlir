// RUN: meta-opt %s -meta-lower-to-linalg | FileCheck %s
// RUN: meta-opt %s -meta-lower-to-linalg | FileCheck %s --check-prefix=MAPS
// meta ops become linalg on tensors; elementwise ops are linalg.generic so
// that linalg-fuse-elementwise-ops can fuse them.

// CHECK-LABEL: func @ops
func.func @ops(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<f32> {
  // A narrow product (3 columns) reads a transposed copy of B row by row.
  // CHECK: linalg.generic {{.*}} ins(%arg1 : tensor<2x3xf32>)
  // CHECK: linalg.fill
  // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}}ins(%arg0, %{{.*}} : tensor<4x2xf32>, tensor<3x2xf32>){{.*}}metac.contraction
  // CHECK: arith.mulf {{.*}} fastmath<reassoc,contract>
  %h = meta.matmul %x, %w : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[BCAST:.*]], #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%arg2 : tensor<3xf32>)
  %bb = meta.broadcast %b : tensor<3xf32> -> tensor<4x3xf32>
  // CHECK: linalg.generic
  // CHECK: arith.addf
  %y = meta.add %h, %bb : tensor<4x3xf32>
  // CHECK: linalg.generic
  // CHECK: arith.cmpf ogt
  // CHECK: arith.select
  %r = meta.relu %y : tensor<4x3xf32>
  // CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
  %s = meta.reduce_sum %r, [0, 1] : tensor<4x3xf32> -> tensor<f32>
  // stop_gradient is the identity once derivatives are taken.
  // CHECK-NOT: stop_gradient
  %t = meta.stop_gradient %s : tensor<f32>
  return %t : tensor<f32>
}

// Random draws hash (key, stream, index) with splitmix64's multipliers.
// A wide product (16 columns or more) updates whole rows of C: loops (i, k, j).
// CHECK-LABEL: func @wide
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]{{.*}}ins(%arg0, %arg1 : tensor<4x2xf32>, tensor<2x16xf32>){{.*}}metac.contraction
func.func @wide(%x: tensor<4x2xf32>, %w: tensor<2x16xf32>) -> tensor<4x16xf32> {
  %h = meta.matmul %x, %w : tensor<4x2xf32>, tensor<2x16xf32> -> tensor<4x16xf32>
  return %h : tensor<4x16xf32>
}

// CHECK-LABEL: func @random
// CHECK: tensor.extract %arg0[]
// CHECK: linalg.generic
// CHECK: linalg.index 0
// CHECK: arith.constant -4658895280553007687 : i64
// CHECK: arith.uitofp
func.func @random(%key: tensor<i64>) -> tensor<5xf32> {
  %u = meta.random_uniform %key, 3 : tensor<i64> -> tensor<5xf32>
  return %u : tensor<5xf32>
}

// CHECK-LABEL: func @shapes
// CHECK: tensor.collapse_shape
// CHECK: tensor.expand_shape
// CHECK: tensor.extract_slice %{{.*}}[1, 0] [2, 2] [1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 1] [2, 2] [1, 1]
func.func @shapes(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = meta.reshape %x : tensor<2x3xf32> -> tensor<3x2xf32>
  %s = meta.slice %r, [1, 0] : tensor<3x2xf32> -> tensor<2x2xf32>
  %p = meta.pad %s, [0, 1] : tensor<2x2xf32> -> tensor<2x3xf32>
  return %p : tensor<2x3xf32>
}


// A product large enough for Eigen's GEMM is left for
// metac-lower-to-runtime-calls.
// CHECK-LABEL: func @large_matmul
func.func @large_matmul(%a: tensor<64x32xf32>, %b: tensor<32x40xf32>) -> tensor<64x40xf32> {
  // CHECK: meta.matmul %{{.*}}, %{{.*}} : tensor<64x32xf32>, tensor<32x40xf32> -> tensor<64x40xf32>
  %c = meta.matmul %a, %b : tensor<64x32xf32>, tensor<32x40xf32> -> tensor<64x40xf32>
  return %c : tensor<64x40xf32>
}

// A row-update product whose left side is a transpose reads the transposed
// matrix in place (A[i, k] at X[k, i]); the copy is left dead.
// MAPS: #[[XMAP:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d0)>
// MAPS-LABEL: func @transposed_lhs
// MAPS: linalg.generic {indexing_maps = [#[[XMAP]], {{.*}}ins(%arg0, %arg1 : tensor<2x4xf32>, tensor<2x16xf32>)
// CHECK-LABEL: func @transposed_lhs
// CHECK: %[[T:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<2x4xf32>)
// CHECK: linalg.generic {indexing_maps = [{{.*}}iterator_types = ["parallel", "reduction", "parallel"]{{.*}}ins(%arg0, %arg1 : tensor<2x4xf32>, tensor<2x16xf32>){{.*}}metac.contraction
func.func @transposed_lhs(%x: tensor<2x4xf32>, %w: tensor<2x16xf32>) -> tensor<4x16xf32> {
  %xt = meta.transpose %x, [1, 0] : tensor<2x4xf32> -> tensor<4x2xf32>
  %h = meta.matmul %xt, %w : tensor<4x2xf32>, tensor<2x16xf32> -> tensor<4x16xf32>
  return %h : tensor<4x16xf32>
}

// A narrow product (fewer than 16 columns) reads Bᵀ row by row; when B is a
// transpose, Bᵀ is its source and no copy is made.
// CHECK-LABEL: func @transposed_narrow_rhs
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}}ins(%arg0, %arg1 : tensor<4x2xf32>, tensor<3x2xf32>){{.*}}metac.contraction
func.func @transposed_narrow_rhs(%x: tensor<4x2xf32>, %w: tensor<3x2xf32>) -> tensor<4x3xf32> {
  %wt = meta.transpose %w, [1, 0] : tensor<3x2xf32> -> tensor<2x3xf32>
  %h = meta.matmul %x, %wt : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return %h : tensor<4x3xf32>
}
