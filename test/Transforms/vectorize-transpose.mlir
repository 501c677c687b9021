// RUN: meta-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(metac-vectorize-transpose))' | FileCheck %s
// Elementwise ops that read an operand transposed become 8 x 8 register
// tiles; the others stay linalg.

#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>

// A transpose copy, not square: tiles over the output's 24 rows and 16
// columns; each tile loads 8 rows of the input from (j, i), shuffles them
// in three stages and stores 8 output rows at (i, j).
// CHECK-LABEL: func @copy
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[I:.*]] = %c0 to %c24 step %c8
// CHECK: scf.for %[[J:.*]] = %c0 to %c16 step %c8
// CHECK: vector.load %arg0[%[[J]], %[[I]]] : memref<16x24xf32>, vector<8xf32>
// CHECK-COUNT-7: vector.load %arg0[%{{.*}}, %[[I]]] : memref<16x24xf32>, vector<8xf32>
// CHECK: vector.shuffle {{.*}} [0, 8, 1, 9, 4, 12, 5, 13]
// CHECK: vector.shuffle {{.*}} [0, 1, 8, 9, 4, 5, 12, 13]
// CHECK-COUNT-4: vector.shuffle {{.*}} [0, 1, 2, 3, 8, 9, 10, 11]
// CHECK-COUNT-4: vector.shuffle {{.*}} [4, 5, 6, 7, 12, 13, 14, 15]
// CHECK-NOT: vector.shuffle
// CHECK: vector.store %{{.*}}, %arg1[%[[I]], %[[J]]] : memref<24x16xf32>, vector<8xf32>
// CHECK-COUNT-7: vector.store %{{.*}}, %arg1[%{{.*}}, %[[J]]] : memref<24x16xf32>, vector<8xf32>
func.func @copy(%w: memref<16x24xf32>, %wt: memref<24x16xf32>) {
  linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel"]}
      ins(%w : memref<16x24xf32>) outs(%wt : memref<24x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>

// A body with a direct byte mask, a transposed operand and a constant: the
// body runs on 8-lane rows, the constant broadcast once per tile.
// CHECK-LABEL: func @masked_add
// CHECK-NOT: linalg.generic
// CHECK: vector.load %arg0[{{.*}}] : memref<8x16xi8>, vector<8xi8>
// CHECK: vector.shuffle
// CHECK: %[[BIT:.*]] = arith.trunci %{{.*}} : vector<8xi8> to vector<8xi1>
// CHECK: %[[SUM:.*]] = arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK: %[[ZERO:.*]] = vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK: arith.select %[[BIT]], %[[SUM]], %[[ZERO]] : vector<8xi1>, vector<8xf32>
// CHECK: vector.store
// CHECK-NOT: vector.broadcast
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[ZERO]]
func.func @masked_add(%mask: memref<8x16xi8>, %a: memref<16x8xf32>, %b: memref<8x16xf32>, %out: memref<8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #tr, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mask, %a, %b : memref<8x16xi8>, memref<16x8xf32>, memref<8x16xf32>) outs(%out : memref<8x16xf32>) {
  ^bb0(%m: i8, %x: f32, %y: f32, %o: f32):
    %bit = arith.trunci %m : i8 to i1
    %s = arith.addf %x, %y : f32
    %r = arith.select %bit, %s, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>

// Left alone: a side that is not a multiple of 8, a transpose into its own
// buffer, an op with no transposed operand, and one with an i1 operand
// (LLVM would read a vector of i1 as packed bits).
// CHECK-LABEL: func @untouched
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT: vector.shuffle
func.func @untouched(%a: memref<40x10xf32>, %b: memref<10x40xf32>, %sq: memref<8x8xf32>, %c: memref<8x8xf32>, %m: memref<8x8xi1>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #tr, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m, %sq : memref<8x8xi1>, memref<8x8xf32>) outs(%c : memref<8x8xf32>) {
  ^bb0(%bit: i1, %in: f32, %out: f32):
    %s = arith.select %bit, %in, %zero : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<40x10xf32>) outs(%b : memref<10x40xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel"]}
      ins(%sq : memref<8x8xf32>) outs(%sq : memref<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%sq : memref<8x8xf32>) outs(%c : memref<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}
