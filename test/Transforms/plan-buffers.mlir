// RUN: meta-opt %s -metac-plan-buffers | FileCheck %s
// RUN: meta-opt %s -metac-plan-buffers=stack-limit=64 | FileCheck %s --check-prefix=HEAP
// Intermediates become views of slots. %a and %c are never live at the same
// time, so %c reuses %a's slot; %b overlaps both and gets its own.

// CHECK-LABEL: func @kernel
// CHECK-SAME: metac.arena_bytes = 128 : i64, metac.kernel = "test", metac.slots = 2 : i64
// CHECK-DAG: %[[S0:.*]] = memref.alloca() {alignment = 64 : i64} : memref<64xi8>
// CHECK-DAG: %[[S1:.*]] = memref.alloca() {alignment = 64 : i64} : memref<64xi8>
// CHECK: %[[A:.*]] = memref.view %[[SA:.*]][%{{.*}}][] : memref<64xi8> to memref<16xf32>
// CHECK: memref.copy %arg0, %[[A]]
// CHECK: %[[B:.*]] = memref.view %[[SB:.*]][%{{.*}}][] : memref<64xi8> to memref<16xf32>
// CHECK: %[[C:.*]] = memref.view %[[SA]][%{{.*}}][] : memref<64xi8> to memref<16xf32>
// CHECK-NOT: memref.alloc(
// CHECK-NOT: memref.dealloc
// HEAP-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<64xi8>
// HEAP-COUNT-2: memref.dealloc
// HEAP-NEXT: return
func.func @kernel(%in: memref<16xf32>, %out: memref<16xf32>) attributes {metac.kernel = "test"} {
  %a = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  %c = memref.alloc() : memref<16xf32>
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  memref.dealloc %a : memref<16xf32>
  return
}
