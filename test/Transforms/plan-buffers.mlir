// RUN: meta-opt %s -metac-plan-buffers | FileCheck %s
// RUN: meta-opt %s -metac-plan-buffers=stack-limit=64 | FileCheck %s --check-prefix=HEAP
// Intermediates become views of one arena; %a and %c are never live at the
// same time, so they share offset 0, while %b overlaps both.

// CHECK-LABEL: func @kernel
// CHECK-SAME: metac.arena_bytes = 128
// CHECK: %[[ARENA:.*]] = memref.alloca() {alignment = 64 : i64} : memref<128xi8>
// CHECK: memref.view %[[ARENA]][%c0{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: memref.view %[[ARENA]][%c64{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: memref.view %[[ARENA]][%c0{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK-NOT: memref.alloc(
// CHECK-NOT: memref.dealloc
// HEAP: %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<128xi8>
// HEAP: memref.dealloc %[[ARENA]]
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
