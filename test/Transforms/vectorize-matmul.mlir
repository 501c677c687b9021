// RUN: meta-opt %s -pass-pipeline='builtin.module(func.func(metac-vectorize-matmul))' | FileCheck %s
// A row-update product of 16-wide rows: each row of C is two 8-lane
// accumulators, loaded once, updated by one broadcast FMA per k, stored once;
// rows go in pairs, sharing the loads of B.
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
// Two rows per iteration, each row two 8-lane accumulators.
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %[[TWO:.*]] {
// CHECK: %[[I1:.*]] = arith.addi %[[I]], %{{.*}} : index
// CHECK-COUNT-4: vector.load %arg2
// CHECK: scf.for %[[K:.*]] = {{.*}} iter_args(%[[R0C0:[^ ]*]] = {{.*}}, %[[R0C1:[^ ]*]] = {{.*}}, %[[R1C0:[^ ]*]] = {{.*}}, %[[R1C1:[^ ]*]] = {{.*}})
// CHECK: %[[X0:.*]] = memref.load %arg0[%[[I]], %[[K]]] : memref<4x3xf32>
// CHECK: %[[S0:.*]] = vector.broadcast %[[X0]] : f32 to vector<8xf32>
// CHECK: %[[X1:.*]] = memref.load %arg0[%[[I1]], %[[K]]] : memref<4x3xf32>
// CHECK: %[[S1:.*]] = vector.broadcast %[[X1]] : f32 to vector<8xf32>
// Each row of B is loaded once for both rows.
// CHECK: %[[B0:.*]] = vector.load %arg1[%[[K]], %{{.*}}] : memref<3x16xf32>, vector<8xf32>
// CHECK-NEXT: vector.fma %[[S0]], %[[B0]], %[[R0C0]] : vector<8xf32>
// CHECK-NEXT: vector.fma %[[S1]], %[[B0]], %[[R1C0]] : vector<8xf32>
// CHECK-NEXT: vector.load %arg1
// CHECK-NEXT: vector.fma %[[S0]], %{{.*}}, %[[R0C1]]
// CHECK-NEXT: vector.fma %[[S1]], %{{.*}}, %[[R1C1]]
// CHECK: scf.yield
// CHECK-COUNT-4: vector.store
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

// A read transposed (A[i, k] at X[k, i]); an odd number of rows, one at a
// time.
// CHECK-LABEL: func.func @transposed_lhs
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %[[ONE:[^ ]*]] {
// CHECK: scf.for %[[K:.*]] = {{.*}} iter_args
// CHECK: memref.load %arg0[%[[K]], %[[I]]] : memref<3x5xf32>
func.func @transposed_lhs(%x: memref<3x5xf32>, %b: memref<3x8xf32>, %c: memref<5x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, k, j) -> (k, i)>, #b, #c], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %b : memref<3x5xf32>, memref<3x8xf32>) outs(%c : memref<5x8xf32>) attrs = {metac.contraction} {
  ^bb0(%in: f32, %y: f32, %acc: f32):
    %m = arith.mulf %in, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// B and C are views of one buffer: C's rows could not be held in registers
// while B is read, so the product stays linalg.
// CHECK-LABEL: func.func @shared_buffer
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @shared_buffer(%a: memref<4x3xf32>, %buf: memref<7x16xf32>) {
  %b = memref.subview %buf[0, 0] [3, 16] [1, 1] : memref<7x16xf32> to memref<3x16xf32, strided<[16, 1]>>
  %c = memref.subview %buf[3, 0] [4, 16] [1, 1] : memref<7x16xf32> to memref<4x16xf32, strided<[16, 1], offset: 48>>
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<4x3xf32>, memref<3x16xf32, strided<[16, 1]>>) outs(%c : memref<4x16xf32, strided<[16, 1], offset: 48>>) attrs = {metac.contraction} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
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
