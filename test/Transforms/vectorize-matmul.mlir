// RUN: meta-opt %s -pass-pipeline='builtin.module(func.func(metac-vectorize-matmul))' | FileCheck %s
// A row-update product of 16-wide rows: each row of C is two 8-lane
// accumulators, loaded once, updated by one broadcast FMA per k, stored once.
// Rows wider than max-width, widths that are not whole vectors, other loop
// orders and unmarked generics stay linalg.

#a = affine_map<(i, k, j) -> (i, k)>
#b = affine_map<(i, k, j) -> (k, j)>
#c = affine_map<(i, k, j) -> (i, j)>
#bt = affine_map<(i, j, k) -> (j, k)>
#ct = affine_map<(i, j, k) -> (i, j)>
#at = affine_map<(i, j, k) -> (i, k)>

// CHECK-LABEL: func.func @rows
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK-DAG: %[[C0:.*]] = vector.load %arg2[%[[I]], %{{.*}}] : memref<4x16xf32>, vector<8xf32>
// CHECK-DAG: %[[C1:.*]] = vector.load %arg2[%[[I]], %{{.*}}] : memref<4x16xf32>, vector<8xf32>
// CHECK: scf.for %[[K:.*]] = {{.*}} iter_args(%[[ACC0:.*]] = %[[C0]], %[[ACC1:.*]] = %[[C1]])
// CHECK: %[[X:.*]] = memref.load %arg0[%[[I]], %[[K]]] : memref<4x3xf32>
// CHECK: %[[S:.*]] = vector.broadcast %[[X]] : f32 to vector<8xf32>
// CHECK: %[[B0:.*]] = vector.load %arg1[%[[K]], %{{.*}}] : memref<3x16xf32>, vector<8xf32>
// CHECK: vector.fma %[[S]], %[[B0]], %[[ACC0]] : vector<8xf32>
// CHECK: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-2: vector.store
func.func @rows(%a: memref<4x3xf32>, %b: memref<3x16xf32>, %c: memref<4x16xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<4x3xf32>, memref<3x16xf32>) outs(%c : memref<4x16xf32>) attrs = {metac.contraction} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %m fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT: vector.
func.func @left_alone(%a: memref<4x3xf32>, %b: memref<3x72xf32>, %c: memref<4x72xf32>,
                      %b12: memref<3x12xf32>, %c12: memref<4x12xf32>, %bt: memref<16x3xf32>, %c16: memref<4x16xf32>) {
  // 72 floats: more than max-width.
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<4x3xf32>, memref<3x72xf32>) outs(%c : memref<4x72xf32>) attrs = {metac.contraction} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  // 12 floats: not whole 8-lane vectors.
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b12 : memref<4x3xf32>, memref<3x12xf32>) outs(%c12 : memref<4x12xf32>) attrs = {metac.contraction} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  // Dot products over a transposed B: another loop order.
  linalg.generic {indexing_maps = [#at, #bt, #ct], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %bt : memref<4x3xf32>, memref<16x3xf32>) outs(%c16 : memref<4x16xf32>) attrs = {metac.contraction} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  // Not marked as a product (and not a multiply-add).
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<4x3xf32>, memref<3x72xf32>) outs(%c : memref<4x72xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.maximumf %x, %y : f32
    linalg.yield %m : f32
  }
  return
}
