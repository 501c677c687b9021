//===- Passes.td - metac's passes, in pipeline order -------*- tablegen -*-===//
#ifndef METAC_PASSES
#define METAC_PASSES

include "mlir/Pass/PassBase.td"

def MetaAutodiff : Pass<"meta-autodiff", "mlir::ModuleOp"> {
  let summary = "Expand meta.grad into reverse-mode derivative code";
  let description = [{
    Each `meta.grad` is replaced, innermost first, by a copy of its region
    evaluated at the operands (the forward sweep) followed by the
    vector-Jacobian products of those ops in reverse order (the reverse sweep),
    seeded with 1 for the yielded scalar. The rules come from
    DifferentiableOpInterface and emit only ops that have rules themselves, so
    an enclosing `meta.grad` differentiates the expansion again: that is
    second-order MAML. `meta.stop_gradient` passes no cotangent.

    Before:
    ```mlir
    %g = meta.grad %w : (tensor<f32>) -> tensor<f32> {
    ^bb0(%x: tensor<f32>):
      %y = meta.sin %x : tensor<f32>
      meta.yield %y : tensor<f32>
    }
    ```
    After (and -canonicalize):
    ```mlir
    %g = meta.cos %w : tensor<f32>
    ```
  }];
  let dependentDialects = ["metac::meta::MetaDialect"];
}

def MetaLowerToLinalg : Pass<"meta-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower meta tensor ops to linalg, tensor, arith and math";
  let description = [{
    Elementwise ops become `linalg.generic` (so that
    `linalg-fuse-elementwise-ops` can fuse chains of them), matrix products
    `linalg.matmul`, reductions and broadcasts `linalg.generic` with the
    matching indexing maps, reshapes `tensor.collapse_shape`/`expand_shape` or
    `tensor.reshape`, slices and pads `tensor.extract_slice`/`insert_slice`.
    Random ops become a counter-based hash of (key, stream, element index).
    `meta.stop_gradient` is the identity here.
  }];
  let dependentDialects = [
    "mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
    "mlir::arith::ArithDialect", "mlir::math::MathDialect"
  ];
}

def MetacFuseElementwise : Pass<"metac-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg.generic chains, but not into contractions";
  let description = [{
    `linalg-fuse-elementwise-ops` with one rule added: nothing is fused into
    an operand of a matrix product (a generic marked `metac.contraction`).
    Fusing there would recompute the producer once per output column and,
    for a transpose, turn the product's contiguous row reads into gathers
    (measured: the MAML kernel spent a quarter of its time in such a loop).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def MetacByteMasks : Pass<"metac-byte-masks", "mlir::func::FuncOp"> {
  let summary = "Store boolean tensors passed between linalg ops as bytes";
  let description = [{
    Runs on tensors. A `linalg.generic` result of `i1` elements whose every
    use is an input of another `linalg.generic` (a ReLU's mask, read by its
    backward pass) becomes a tensor of `i8`: the producer yields
    `arith.extui` of its bit, each consumer `arith.trunci`s the byte back.
    In memory LLVM stores an `i1` per byte but vectors of `i1` bit-packed, so
    loops reading `i1` buffers were not vectorised; `i8` buffers are.

    Before:
    ```mlir
    %m = linalg.generic ... outs(%e : tensor<10x40xi1>) { ... arith.cmpf ... }
    %g = linalg.generic ... ins(%m, %x : tensor<10x40xi1>, tensor<10x40xf32>) ...
    ```
    After:
    ```mlir
    %m = linalg.generic ... outs(%e8 : tensor<10x40xi8>) {
      ... %c = arith.cmpf ...; %b = arith.extui %c : i1 to i8; linalg.yield %b
    }
    %g = linalg.generic ... ins(%m, %x : tensor<10x40xi8>, tensor<10x40xf32>) {
    ^bb0(%in: i8, ...):
      %bit = arith.trunci %in : i8 to i1 ...
    }
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::tensor::TensorDialect"];
}

def MetacDuplicateInits : Pass<"metac-duplicate-inits", "mlir::func::FuncOp"> {
  let summary = "Give each linalg op that writes into a shared init its own";
  let description = [{
    After CSE, many ops write their results into one `linalg.fill` (the
    zeros reverse mode starts products and reductions from) or one
    `tensor.empty` of a shape. Every writer of a fill but one gets a clone
    of the fill right before it, so that One-Shot Bufferize writes zeros
    instead of copying them from a buffer live through the whole kernel;
    uses that only read the fill keep the original. Every use of a
    `tensor.empty` gets its own, so that empty-tensor elimination, which
    replaces a `tensor.empty` with the kernel's output buffer, redirects
    only the op that computes the output.

    Before:
    ```mlir
    %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<10x40xf32>) -> tensor<10x40xf32>
    %a = linalg.generic ... outs(%z : tensor<10x40xf32>) ...
    %b = linalg.generic ... outs(%z : tensor<10x40xf32>) ...
    ```
    After:
    ```mlir
    %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<10x40xf32>) -> tensor<10x40xf32>
    %a = linalg.generic ... outs(%z : tensor<10x40xf32>) ...
    %e1 = tensor.empty() : tensor<10x40xf32>
    %z1 = linalg.fill ins(%c0 : f32) outs(%e1 : tensor<10x40xf32>) -> tensor<10x40xf32>
    %b = linalg.generic ... outs(%z1 : tensor<10x40xf32>) ...
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def MetacLowerToRuntimeCalls
    : Pass<"metac-lower-to-runtime-calls", "mlir::ModuleOp"> {
  let summary = "Turn convolutions into calls of the runtime's GEMM-based functions";
  let description = [{
    `meta.conv2d`, `meta.conv2d_input_grad` and `meta.conv2d_filter_grad`
    become calls of `metac_conv2d*` (metac/runtime/Builtins.h): the operand
    tensors are read through `bufferization.to_memref {read_only}`, the
    result is a fresh `memref.alloc` returned through
    `bufferization.to_tensor restrict writable`, and buffers are passed as
    one-element memref views (bare pointers after lowering). Runs right
    before One-Shot Bufferize, so that no canonicalisation can fold the
    `to_memref` of a `to_tensor` away and hide a read from the analysis.
  }];
  let dependentDialects = [
    "mlir::bufferization::BufferizationDialect", "mlir::memref::MemRefDialect",
    "mlir::func::FuncDialect", "mlir::arith::ArithDialect"
  ];
}

def MetacKernelABI : Pass<"metac-kernel-abi", "mlir::ModuleOp"> {
  let summary = "Give kernels destination-passing memref signatures";
  let description = [{
    Kernels (functions with a `metac.kernel` attribute) are written on tensors
    and return their results. The runtime owns every buffer, so each kernel is
    rewritten to take its inputs and then its outputs as memrefs and to write
    the results into the output buffers
    (`bufferization.materialize_in_destination`). After bufferization the
    kernel's only allocations are its intermediates, which
    -metac-plan-buffers places in one arena.
  }];
  let dependentDialects = [
    "mlir::bufferization::BufferizationDialect", "mlir::memref::MemRefDialect"
  ];
}

def MetacPlanBuffers : Pass<"metac-plan-buffers", "mlir::ModuleOp"> {
  let summary = "Place a kernel's intermediate buffers in reused slots";
  let description = [{
    After bufferization a kernel allocates one buffer per intermediate. Their
    shapes are static and a kernel is straight-line code, so live ranges are
    known at compile time: this pass colours the buffers into slots (a slot
    holds one live buffer at a time; a dead buffer's slot is reused), replaces
    each allocation with a `memref.view` of its slot and removes the
    deallocations. Slots are stack allocations when the kernel's slots fit the
    stack limit, else one heap allocation each per kernel call: never one per
    op. Buffers live at the same time are distinct allocations, so LLVM can
    prove they do not alias and vectorise. The total is recorded on the kernel
    as `metac.arena_bytes`, the slot count as `metac.slots`.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::arith::ArithDialect"];
  let options = [
    Option<"stackLimit", "stack-limit", "int64_t", "/*256 KiB*/262144",
           "Largest total of slots placed on the stack, in bytes">
  ];
}

def MetacOutlineOps : Pass<"metac-outline-ops", "mlir::ModuleOp"> {
  let summary = "Give each linalg op of a large kernel its own shared function";
  let description = [{
    Runs on buffers, after slot planning. In a kernel with at least `min-ops`
    linalg ops, or whose linalg ops' loops run at least `min-points`
    iterations together, every top-level linalg op becomes a `func.call` of a private
    `no_inline` function that holds only that op; constants it uses are
    copied in, buffers and scalars are arguments. Functions with identical
    bodies are one function, so the unrolled inner steps, which repeat the
    same ops on the same shapes, share their code: LLVM's work grows with the
    distinct ops, not with the steps. A buffer argument is `llvm.noalias`
    when no other operand of the op is a view of the same allocation.

    Before (in a kernel over the threshold):
    ```mlir
    linalg.generic {...} ins(%a : memref<8xf32>) outs(%b : memref<8xf32>) {...}
    linalg.generic {...} ins(%c : memref<8xf32>) outs(%d : memref<8xf32>) {...}
    ```
    After:
    ```mlir
    call @metac_op0_generic(%a, %b) : (memref<8xf32>, memref<8xf32>) -> ()
    call @metac_op0_generic(%c, %d) : (memref<8xf32>, memref<8xf32>) -> ()
    ```
  }];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"minOps", "min-ops", "int64_t", "50",
           "Fewest linalg ops a kernel has for its ops to be outlined">,
    Option<"minPoints", "min-points", "int64_t", "10000000",
           "Or the fewest iterations of all its linalg ops' loops together">
  ];
}

def MetacSplitKernels : Pass<"metac-split-kernels", "mlir::ModuleOp"> {
  let summary = "Cut a long kernel into part functions of bounded length";
  let description = [{
    Runs on buffers, after op outlining. A kernel without
    loops (no linalg op, no op with regions: all outlined) and with at least
    twice `ops-per-part` operations besides allocations and address
    computations becomes a sequence of calls of private `no_inline`
    functions, `<kernel>_part<i>`, each holding about `ops-per-part` of them
    in order. A part takes as arguments the kernel's arguments and
    allocations it uses, and recomputes the constants and views (memref.view,
    reshapes, casts) it needs. A cut is made only where no result of the
    ops before it is used after it. LLVM's instruction selection and
    register allocation are superlinear in a block's length, and the parts
    can be compiled on different threads.

    Before (`ops-per-part=2`):
    ```mlir
    func.func @k(%x: memref<8xf32>) attributes {metac.kernel = "k"} {
      %s = memref.alloc() : memref<64xi8>
      %a = memref.view %s[%c0][] : memref<64xi8> to memref<8xf32>
      call @op0(%x, %a) ...
      call @op1(%a, %x) ...
      call @op0(%x, %a) ...
      call @op1(%a, %x) ...
      memref.dealloc %s : memref<64xi8>
      return
    }
    ```
    After:
    ```mlir
    func.func @k(%x: memref<8xf32>) attributes {metac.kernel = "k"} {
      %s = memref.alloc() : memref<64xi8>
      call @k_part0(%x, %s) : (memref<8xf32>, memref<64xi8>) -> ()
      call @k_part1(%x, %s) : (memref<8xf32>, memref<64xi8>) -> ()
      memref.dealloc %s : memref<64xi8>
      return
    }
    func.func private @k_part0(%x: memref<8xf32>, %s: memref<64xi8>) {
      %a = memref.view %s[%c0][] : memref<64xi8> to memref<8xf32>
      call @op0(%x, %a) ...
      call @op1(%a, %x) ...
      return
    }
    ```
  }];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"opsPerPart", "ops-per-part", "int64_t", "128",
           "Operations per part function">
  ];
}

def MetacVectorizeMatmul
    : Pass<"metac-vectorize-matmul", "mlir::func::FuncOp"> {
  let summary = "Matrix products with short rows keep each output row in registers";
  let description = [{
    Runs on buffers. A `linalg.generic` product marked `metac.contraction`
    in the row-update order (i, k, j), on f32 buffers with contiguous rows of
    a width that is a multiple of 8 and at most `max-width`, becomes a loop
    over the rows of C that loads the row once as one vector, adds
    `broadcast(A[i, k]) * B[k, :]` for every k with `vector.fma`, and stores
    it once. As loops, LLVM vectorised along the row but loaded and stored
    C's row for every k.

    Before:
    ```mlir
    linalg.generic {indexing_maps = [(i, k), (k, j), (i, j)], ...}
        ins(%a, %b : memref<10x40xf32>, memref<40x40xf32>)
        outs(%c : memref<10x40xf32>) attrs = {metac.contraction} {...}
    ```
    After:
    ```mlir
    scf.for %i = %c0 to %c10 step %c1 {
      %row = vector.load %c[%i, %c0] : memref<10x40xf32>, vector<40xf32>
      %sum = scf.for %k = %c0 to %c40 step %c1 iter_args(%acc = %row) {
        ... vector.fma %splat, %brow, %acc : vector<40xf32>
      }
      vector.store %sum, %c[%i, %c0] : memref<10x40xf32>, vector<40xf32>
    }
    ```
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
    "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"maxWidth", "max-width", "int64_t", "64",
           "Widest row (in floats) held in registers">
  ];
}

def MetacVectorizeTranspose
    : Pass<"metac-vectorize-transpose", "mlir::func::FuncOp"> {
  let summary = "Elementwise ops that read an operand transposed, in 8 x 8 register tiles";
  let description = [{
    Runs on buffers. An elementwise `linalg.generic` on 2-D buffers whose
    sides are multiples of 8, with an f32 input read transposed (indexing
    map `(d0, d1) -> (d1, d0)`) and every other operand read directly,
    becomes two loops over 8 x 8 tiles: eight row loads per operand, the
    24 `vector.shuffle`s of a register transpose for transposed ones, and
    the body applied to 8-lane rows. As loops, LLVM read the transposed
    operand with a gather per 8 elements.

    Before:
    ```mlir
    linalg.generic {indexing_maps = [(i, j) -> (j, i), (i, j) -> (i, j)], ...}
        ins(%w : memref<40x40xf32>) outs(%wt : memref<40x40xf32>) {
      ^bb0(%in: f32, %out: f32): linalg.yield %in : f32
    }
    ```
    After:
    ```mlir
    scf.for %i = %c0 to %c40 step %c8 {
      scf.for %j = %c0 to %c40 step %c8 {
        %r0 = vector.load %w[%j, %i] : memref<40x40xf32>, vector<8xf32>
        ...  // 8 loads, 24 vector.shuffle, 8 vector.store to %wt[%i + c, %j]
      }
    }
    ```
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
    "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"
  ];
}

def MetacApproximateMath : Pass<"metac-approximate-math"> {
  let summary = "Replace tanh, exp, log, sin, cos, ... by polynomial approximations";
  let description = [{
    MLIR's polynomial approximations of the math dialect's transcendental
    functions: arithmetic only, so that the loops around them vectorise
    (libm calls are scalar). Runs on the loops, before math-to-llvm.

    Before:
    ```mlir
    %y = math.tanh %x : f32
    ```
    After: a clamp of %x, two polynomials in %x * %x and a division, in
    `arith` and `math.fma`.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::math::MathDialect",
    "mlir::vector::VectorDialect"
  ];
}

def MetacEmitRuntimeInterface
    : Pass<"metac-emit-runtime-interface", "mlir::ModuleOp"> {
  let summary = "Emit metac_program() and metac_kernels[] for the runtime";
  let description = [{
    Runs on the LLVM dialect. For every kernel it emits an entry
    `void kernel(void **args)` that loads each buffer pointer and calls the
    bare-pointer kernel, then the table `metac_kernels` of those entries, and
    `metac_program()` returning the descriptor text stored on the module as
    `metac.program` (the ABI of runtime/include/metac/abi.h).
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // METAC_PASSES
