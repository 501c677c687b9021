// RUN: meta-opt %s -metac-split-kernels=ops-per-part=2 | FileCheck %s
// A kernel of calls is cut every two operations into private no_inline
// parts that take the kernel's arguments and allocations and recompute the
// views; the kernel keeps the allocations. A kernel with a loop (@loops)
// stays whole, and so does one below twice the part size (@short).

// CHECK-LABEL: func.func @kernel(%arg0: memref<8xf32>)
// CHECK-NEXT: %[[S:.*]] = memref.alloc() : memref<64xi8>
// CHECK-NEXT: call @kernel_part0(%arg0, %[[S]]) : (memref<8xf32>, memref<64xi8>) -> ()
// CHECK-NEXT: call @kernel_part1(%arg0, %[[S]]) : (memref<8xf32>, memref<64xi8>) -> ()
// CHECK-NEXT: memref.dealloc %[[S]]
// CHECK-NEXT: return
// CHECK: func.func private @kernel_part0(%[[X:.*]]: memref<8xf32>, %[[SLOT:.*]]: memref<64xi8>) attributes {llvm.linkage = #llvm.linkage<internal>, no_inline}
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %[[SLOT]][%[[C0]]][] : memref<64xi8> to memref<8xf32>
// CHECK-NEXT: call @op0(%[[X]], %[[A]])
// CHECK-NEXT: call @op1(%[[A]], %[[X]])
// CHECK-NEXT: return
// CHECK: func.func private @kernel_part1(
// CHECK: call @op0(
// CHECK-NEXT: call @op1(
func.func @kernel(%x: memref<8xf32>) attributes {metac.kernel = "k"} {
  %c0 = arith.constant 0 : index
  %s = memref.alloc() : memref<64xi8>
  %a = memref.view %s[%c0][] : memref<64xi8> to memref<8xf32>
  call @op0(%x, %a) : (memref<8xf32>, memref<8xf32>) -> ()
  call @op1(%a, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  call @op0(%x, %a) : (memref<8xf32>, memref<8xf32>) -> ()
  call @op1(%a, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  memref.dealloc %s : memref<64xi8>
  return
}

// A result used after the would-be cut keeps its user in the same part.
// CHECK-LABEL: func.func @result(%arg0: memref<8xf32>)
// CHECK-NEXT: call @result_part0(%arg0)
// CHECK-NEXT: call @result_part1(%arg0)
// CHECK-NEXT: return
// CHECK: func.func private @result_part0(
// CHECK-NEXT: call @op0(
// CHECK-NEXT: %[[V:.*]] = call @value()
// CHECK-NEXT: call @op0(
// CHECK-NEXT: call @use(%[[V]])
// CHECK-NEXT: return
func.func @result(%x: memref<8xf32>) attributes {metac.kernel = "k"} {
  call @op0(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  %v = call @value() : () -> f32
  call @op0(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  call @use(%v) : (f32) -> ()
  call @op0(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  call @op1(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  return
}

// CHECK-LABEL: func.func @loops
// CHECK-NOT: call @loops_part
// CHECK: linalg.fill
func.func @loops(%x: memref<8xf32>) attributes {metac.kernel = "k"} {
  %zero = arith.constant 0.0 : f32
  call @op0(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  call @op1(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  linalg.fill ins(%zero : f32) outs(%x : memref<8xf32>)
  call @op0(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  call @op1(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  return
}

// CHECK-LABEL: func.func @short
// CHECK-NOT: call @short_part
func.func @short(%x: memref<8xf32>) attributes {metac.kernel = "k"} {
  call @op0(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  call @op1(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  call @op0(%x, %x) : (memref<8xf32>, memref<8xf32>) -> ()
  return
}

func.func private @op0(memref<8xf32>, memref<8xf32>)
func.func private @op1(memref<8xf32>, memref<8xf32>)
func.func private @value() -> f32
func.func private @use(f32)
