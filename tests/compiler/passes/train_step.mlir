// hrmc-opt train_step.mlir --hrm-train-step=k=1 | FileCheck train_step.mlir
// Autodiff under the credit window on a two-step recurrence (z = rms_norm(linear(z, w) + x), twice):
// at K = 1 the first step stays a forward-only hrm.step region, the second is inlined (its ops tagged
// with their step) and differentiated; weight gradients come back in hrm.grads order, and the
// embedding's gradient sums the path through the head and the path through the step's `+ x`.
// CHECK-LABEL: func.func @train_step_k1
// CHECK-SAME: attributes {hrm.credit_window = 1 : i64, hrm.grads = ["table", "w"]}
// CHECK: %[[X:.*]] = hrm.embedding
// CHECK: %[[Z1:.*]] = hrm.step "H" 0 {{{.*}}forward_only{{.*}}}
// CHECK-NOT: hrm.step
// CHECK: hrm.linear %[[Z1]], %arg4 {hrm.step = "H1:"}
// CHECK: %[[PRE:.*]] = hrm.add %{{.*}}, %[[X]] {hrm.step = "H1:"}
// CHECK: %[[Z2:.*]] = hrm.rms_norm %[[PRE]] {{{.*}}hrm.step = "H1:"}
// CHECK: %[[DLOGITS:.*]] = hrm.cross_entropy_grad
// CHECK: %[[DHEAD:.*]] = hrm.outer_sum %[[DLOGITS]], %[[Z2]] {hrm.backward}
// CHECK: %[[DPRE:.*]] = hrm.rms_norm_grad %[[PRE]], %{{.*}} {{{.*}}hrm.backward}
// CHECK: %[[DW:.*]] = hrm.outer_sum %[[DPRE]], %[[Z1]] {hrm.backward}
// CHECK: %[[DEMB:.*]] = hrm.embedding_grad %arg0, %[[DPRE]] {hrm.backward, vocab = 16 : i64}
// CHECK: %[[DTABLE:.*]] = hrm.add %[[DHEAD]], %[[DEMB]] {hrm.backward}
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %[[DTABLE]], %[[DW]]
module @R {
  func.func @forward(%arg0: tensor<?xi32> {hrm.name = "tokens"}, %arg1: !hrm.packed_seq {hrm.name = "seq"}, %arg2: tensor<16x4xf32> {hrm.init = "zeros", hrm.name = "table"}, %arg3: tensor<4x4xf32> {hrm.init = "zeros", hrm.name = "w"}) -> tensor<?x16xf32> {
    %0 = hrm.embedding %arg2[%arg0] : (tensor<16x4xf32>, tensor<?xi32>) -> tensor<?x4xf32>
    %1 = hrm.step "H" 0 {callee = "", iters = array<i64: 0>, state = "z"} : tensor<?x4xf32> {
      %4 = hrm.linear %0, %arg3 : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
      %5 = hrm.add %4, %0 : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
      %6 = hrm.rms_norm %5 {eps = 9.9999999999999995E-7 : f64} : tensor<?x4xf32>
      hrm.yield %6 : tensor<?x4xf32>
    }
    %2 = hrm.step "H" 1 {callee = "", iters = array<i64: 1>, state = "z"} : tensor<?x4xf32> {
      %4 = hrm.linear %1, %arg3 : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
      %5 = hrm.add %4, %0 : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
      %6 = hrm.rms_norm %5 {eps = 9.9999999999999995E-7 : f64} : tensor<?x4xf32>
      hrm.yield %6 : tensor<?x4xf32>
    }
    %3 = hrm.linear %2, %arg2 : (tensor<?x4xf32>, tensor<16x4xf32>) -> tensor<?x16xf32>
    return %3 : tensor<?x16xf32>
  }
  func.func @loss(%arg0: tensor<?xi32> {hrm.name = "tokens"}, %arg1: tensor<?xi32> {hrm.name = "labels"}, %arg2: !hrm.packed_seq {hrm.name = "seq"}, %arg3: tensor<16x4xf32> {hrm.name = "table"}, %arg4: tensor<4x4xf32> {hrm.name = "w"}) -> (tensor<f32>, tensor<f32>, tensor<f32>) {
    %0 = hrm.embedding %arg3[%arg0] : (tensor<16x4xf32>, tensor<?xi32>) -> tensor<?x4xf32>
    %1 = hrm.step "H" 0 {callee = "", iters = array<i64: 0>, state = "z"} : tensor<?x4xf32> {
      %9 = hrm.linear %0, %arg4 : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
      %10 = hrm.add %9, %0 : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
      %11 = hrm.rms_norm %10 {eps = 9.9999999999999995E-7 : f64} : tensor<?x4xf32>
      hrm.yield %11 : tensor<?x4xf32>
    }
    %2 = hrm.step "H" 1 {callee = "", iters = array<i64: 1>, state = "z"} : tensor<?x4xf32> {
      %9 = hrm.linear %1, %arg4 : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
      %10 = hrm.add %9, %0 : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
      %11 = hrm.rms_norm %10 {eps = 9.9999999999999995E-7 : f64} : tensor<?x4xf32>
      hrm.yield %11 : tensor<?x4xf32>
    }
    %3 = hrm.linear %2, %arg3 : (tensor<?x4xf32>, tensor<16x4xf32>) -> tensor<?x16xf32>
    %4 = hrm.cross_entropy %3, %arg1 : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?xf32>
    %5 = hrm.label_mean %4, %arg1 : (tensor<?xf32>, tensor<?xi32>) -> tensor<f32>
    %6 = hrm.argmax_match %3, %arg1 : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?xf32>
    %7 = hrm.label_mean %6, %arg1 : (tensor<?xf32>, tensor<?xi32>) -> tensor<f32>
    %8 = hrm.exact_match %6, %arg1, %arg2 : (tensor<?xf32>, tensor<?xi32>, !hrm.packed_seq) -> tensor<f32>
    return %5, %7, %8 : tensor<f32>, tensor<f32>, tensor<f32>
  }
}
