// hrmc-opt partition.mlir --hrm-partition=function=forward | FileCheck partition.mlir
// The kernel partition of `forward` (the same two-step recurrence as train_step.mlir): the matrix
// products become library launches, each run of other ops between them one fused kernel in
// destination-passing style (outputs are arguments, results materialized into them). The module's
// hrm.launches attribute holds the launch list.
// CHECK: module @R attributes {hrm.launches = "// forward: 6 launches
// CHECK-SAME: launch 0: fused_0 (1 op, split over rows)
// CHECK-SAME: launch 1: linear
// CHECK-SAME: launch 2: fused_1 (2 ops, split over rows)
// CHECK-SAME: launch 5: linear
// CHECK-SAME: results: %8[Tx16]f32
// CHECK-LABEL: func.func @fused_0(%arg0: tensor<16x4xf32> {bufferization.writable = false}, %arg1: tensor<?xi32> {bufferization.writable = false}, %arg2: tensor<?x4xf32> {bufferization.writable = true})
// CHECK: %[[E:.*]] = hrm.embedding %arg0[%arg1]
// CHECK: bufferization.materialize_in_destination %[[E]] in %arg2
// CHECK-LABEL: func.func @fused_1
// CHECK: %[[S:.*]] = hrm.add %arg0, %arg1
// CHECK: %[[N:.*]] = hrm.rms_norm %[[S]]
// CHECK: bufferization.materialize_in_destination %[[N]] in %arg2
// CHECK-NOT: hrm.linear
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
}
