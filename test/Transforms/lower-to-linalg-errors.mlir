// meta.grad must be expanded first.
// RUN: meta-opt %s -meta-lower-to-linalg -verify-diagnostics
func.func @unexpanded(%w: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'meta.grad' op must be expanded by -meta-autodiff before lowering}}
  %g = meta.grad %w : (tensor<f32>) -> tensor<f32> {
  ^bb0(%x: tensor<f32>):
    meta.yield %x : tensor<f32>
  }
  return %g : tensor<f32>
}
