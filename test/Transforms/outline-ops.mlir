// RUN: meta-opt %s -metac-outline-ops=min-ops=3 | FileCheck %s
// RUN: meta-opt %s -metac-outline-ops=min-ops=5 | FileCheck %s --check-prefix=SMALL
// A kernel of few ops over large data is outlined too: here the four ops'
// loops run 28 iterations in all.
// RUN: meta-opt %s -metac-outline-ops="min-ops=5 min-points=28" | FileCheck %s
// RUN: meta-opt %s -metac-outline-ops="min-ops=5 min-points=29" | FileCheck %s --check-prefix=SMALL
// The four ops of @kernel become calls. The two scalings are the same op on
// the same types: they share one function, with the constant copied in. The
// copy reads and writes views of one slot, so its arguments may alias; the
// scalings' buffers are distinct allocations and are `noalias`.
// Below the threshold (SMALL) the kernel keeps its loops inline.
// Functions are shared by their printed bodies, printed with flags of their
// own: a tool's --mlir-print-skip-regions must not make the sum below share
// the scaling's function (checked through bytecode, which that flag does not
// affect).
// RUN: meta-opt %s -metac-outline-ops=min-ops=3 --mlir-print-skip-regions --emit-bytecode | meta-opt | FileCheck %s --check-prefix=FLAGS
// FLAGS-LABEL: func.func @kernel
// FLAGS: call @[[SCALE:metac_op0_generic]]
// FLAGS: call @[[SCALE]]
// FLAGS-NOT: call @[[SCALE]]
// FLAGS: call @metac_op1_generic
// FLAGS: return

#id = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @kernel
// CHECK: call @[[SCALE:metac_op0_generic]](%arg0, %[[A:.*]]) : (memref<8xf32>, memref<8xf32>) -> ()
// CHECK: call @[[SCALE]](%[[A]], %[[B:.*]]) : (memref<8xf32>, memref<8xf32>) -> ()
// CHECK: call @[[SUM:metac_op1_generic]](%[[B]], %arg1) : (memref<8xf32>, memref<8xf32>) -> ()
// CHECK: call @[[COPY:metac_op2_copy]](%{{.*}}, %{{.*}}) : (memref<4xf32, strided<[1]>>, memref<4xf32, strided<[1], offset: 4>>) -> ()
// CHECK-NOT: linalg.
// CHECK: return

// SMALL-NOT: call
// SMALL-NOT: func.func private
func.func @kernel(%x: memref<8xf32>, %y: memref<8xf32>) attributes {metac.kernel = "test"} {
  %two = arith.constant 2.0 : f32
  %a = memref.alloca() : memref<8xf32>
  %b = memref.alloca() : memref<8xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<8xf32>) outs(%a : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %two : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : memref<8xf32>) outs(%b : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %two : f32
    linalg.yield %m : f32
  }
  %lo = memref.subview %b[0] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1]>>
  %hi = memref.subview %b[4] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1], offset: 4>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%b : memref<8xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %in : f32
    linalg.yield %s : f32
  }
  linalg.copy ins(%lo : memref<4xf32, strided<[1]>>) outs(%hi : memref<4xf32, strided<[1], offset: 4>>)
  memref.copy %b, %y : memref<8xf32> to memref<8xf32>
  return
}

// Not a kernel: left alone whatever its size.
// CHECK-LABEL: func.func @helper
// CHECK-COUNT-3: linalg.fill

// The outlined functions follow, internal to the program.
// CHECK: func.func private @[[SCALE]](%arg0: memref<8xf32> {llvm.noalias}, %arg1: memref<8xf32> {llvm.noalias}) attributes {llvm.linkage = #llvm.linkage<internal>, no_inline} {
// CHECK-NEXT: arith.constant 2.0
// CHECK-NEXT: linalg.generic
// CHECK: func.func private @[[COPY]](%arg0: memref<4xf32, strided<[1]>>, %arg1: memref<4xf32, strided<[1], offset: 4>>) attributes {llvm.linkage = #llvm.linkage<internal>, no_inline} {
// CHECK-NEXT: linalg.copy
// CHECK-NOT: func.func private
func.func @helper(%x: memref<8xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%x : memref<8xf32>)
  linalg.fill ins(%zero : f32) outs(%x : memref<8xf32>)
  linalg.fill ins(%zero : f32) outs(%x : memref<8xf32>)
  return
}
