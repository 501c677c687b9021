// RUN: meta-opt %s -metac-approximate-math | FileCheck %s
// Transcendental functions become arithmetic (which vectorises), not libm
// calls; other math ops are left alone.

// CHECK-LABEL: func @transcendentals
// CHECK-NOT: math.tanh
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK-NOT: math.sin
// CHECK-NOT: math.cos
// CHECK: math.sqrt
// CHECK: return
func.func @transcendentals(%x: f32) -> f32 {
  %t = math.tanh %x : f32
  %e = math.exp %t : f32
  %l = math.log %e : f32
  %s = math.sin %l : f32
  %c = math.cos %s : f32
  %r = math.sqrt %c : f32
  return %r : f32
}

// The whole pipeline: a tanh policy's kernels call no scalar libm function.
// The implicit checks scan the whole module, vector intrinsics included.
// RUN: metac -emit=llvm %metac_src/test/EndToEnd/Inputs/point_env.meta | FileCheck %s --check-prefix=LLVM --implicit-check-not=@tanhf --implicit-check-not=@expf --implicit-check-not=@logf --implicit-check-not=@llvm.exp. --implicit-check-not=@llvm.log.
// LLVM: fmul <8 x float>
